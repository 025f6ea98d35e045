/* action-shell.c: commits, pull requests and patches in shell commands; see action-shell.h. */
#define _GNU_SOURCE /* memmem */
#include "action-shell.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Words of the simple command being read: their text lives in one buffer
 * as long as the script (no word is longer than the script), each ended by
 * a NUL; word[i] is the offset of the i-th.
 */
struct words {
	char *buf;
	size_t len;
	size_t *at;
	size_t n, cap;
	bool open;        /* a word is being built */
	bool digits_only; /* the open word is unquoted digits (a redirection's fd) */
	bool drop_next;   /* the next word is a redirection target */
	bool heredoc_next; /* the next word is a here-document delimiter */
	bool heredoc_strip; /* ... opened by <<- */
};

struct heredoc {
	char *delim;
	bool strip_tabs;
	bool first_of_cmd0; /* the first here-document of the first simple command */
};

struct splitter {
	const char *s;
	size_t n, i;
	struct words w;
	struct heredoc *hd;
	size_t n_hd, cap_hd;
	unsigned cmd_index; /* simple commands ended so far */
	bool cmd0_has_heredoc;
	struct shell_facts *f;
	int err;
};

static void
word_put(struct splitter *sp, char c)
{
	struct words *w = &sp->w;

	if (!w->open) {
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 16;
			size_t *at = realloc(w->at, cap * sizeof(*at));
			if (at == NULL) {
				sp->err = -ENOMEM;
				return;
			}
			w->at = at;
			w->cap = cap;
		}
		w->at[w->n++] = w->len;
		w->open = true;
		w->digits_only = true;
	}
	if (c < '0' || c > '9') {
		w->digits_only = false;
	}
	w->buf[w->len++] = c;
}

/* Begin a word that may stay empty ('' or ""). */
static void
word_touch(struct splitter *sp)
{
	if (!sp->w.open) {
		word_put(sp, 'x');
		sp->w.len--;
	}
	sp->w.digits_only = false;
}

static int
heredoc_push(struct splitter *sp, const char *delim, bool strip)
{
	if (sp->n_hd == sp->cap_hd) {
		size_t cap = sp->cap_hd ? sp->cap_hd * 2 : 4;
		struct heredoc *h = realloc(sp->hd, cap * sizeof(*h));
		if (h == NULL) {
			return -ENOMEM;
		}
		sp->hd = h;
		sp->cap_hd = cap;
	}
	sp->hd[sp->n_hd].delim = strdup(delim);
	if (sp->hd[sp->n_hd].delim == NULL) {
		return -ENOMEM;
	}
	sp->hd[sp->n_hd].strip_tabs = strip;
	sp->hd[sp->n_hd].first_of_cmd0 = sp->cmd_index == 0 && !sp->cmd0_has_heredoc;
	if (sp->cmd_index == 0) {
		sp->cmd0_has_heredoc = true;
	}
	sp->n_hd++;
	return 0;
}

/* End the open word: a redirection target and a delimiter are not words of the command. */
static void
word_end(struct splitter *sp)
{
	struct words *w = &sp->w;

	if (!w->open) {
		return;
	}
	w->buf[w->len++] = '\0';
	w->open = false;
	if (w->drop_next) {
		w->drop_next = false;
		w->n--;
		w->len = w->at[w->n];
	} else if (w->heredoc_next) {
		w->heredoc_next = false;
		w->n--;
		if (sp->err == 0) {
			sp->err = heredoc_push(sp, w->buf + w->at[w->n], w->heredoc_strip);
		}
		w->len = w->at[w->n];
	}
}

static const char *
word(const struct splitter *sp, size_t i)
{
	return sp->w.buf + sp->w.at[i];
}

static bool
is_assignment(const char *s)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
					s[0] == '_')) {
		return false;
	}
	for (const char *p = s; p < eq; p++) {
		char c = *p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_')) {
			return false;
		}
	}
	return true;
}

/* The program of a word: its last path part, lower case, without ".exe". */
static void
program_of(const char *s, char *ret, size_t size)
{
	const char *b = s;
	size_t n;

	for (const char *p = s; *p; p++) {
		if (*p == '/' || *p == '\\') {
			b = p + 1;
		}
	}
	n = strlen(b);
	if (n >= size) {
		ret[0] = '\0';
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		ret[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	ret[n] = '\0';
	if (n > 4 && strcmp(ret + n - 4, ".exe") == 0) {
		ret[n - 4] = '\0';
	}
}

/* Index of the program word of words[0..n), or n. */
static size_t
program_index(const char *const *words, size_t n)
{
	size_t i = 0;
	char prog[32];

	while (i < n && is_assignment(words[i])) {
		i++;
	}
	while (i < n) {
		program_of(words[i], prog, sizeof(prog));
		if (strcmp(prog, "env") != 0 && strcmp(prog, "command") != 0 &&
		    strcmp(prog, "time") != 0 && strcmp(prog, "nohup") != 0) {
			break;
		}
		i++;
		while (i < n && (words[i][0] == '-' || is_assignment(words[i]))) {
			i++;
		}
	}
	return i;
}

static bool
any_word(const char *const *words, size_t from, size_t n, const char *s)
{
	for (size_t i = from; i < n; i++) {
		if (strcmp(words[i], s) == 0) {
			return true;
		}
	}
	return false;
}

static bool
git_commit(const char *const *words, size_t n, size_t prog)
{
	static const char *const with_arg[] = {"-C", "-c", "--git-dir", "--work-tree", "--namespace",
					       "--super-prefix", "--config-env"};
	size_t i = prog + 1;

	while (i < n && words[i][0] == '-') {
		bool takes = false;
		for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]); k++) {
			takes = takes || strcmp(words[i], with_arg[k]) == 0;
		}
		i += takes ? 2 : 1;
	}
	if (i >= n || strcmp(words[i], "commit") != 0) {
		return false;
	}
	return !any_word(words, i + 1, n, "--dry-run") && !any_word(words, i + 1, n, "--help");
}

static bool
creates_request(const char *const *words, size_t n, size_t prog, const char *a, const char *b)
{
	const char *got[2];
	size_t k = 0;

	if (any_word(words, 0, n, "--help")) {
		return false;
	}
	for (size_t i = prog + 1; i < n && k < 2; i++) {
		if (words[i][0] != '-') {
			got[k++] = words[i];
		}
	}
	return k == 2 && strcmp(got[0], a) == 0 && strcmp(got[1], b) == 0;
}

/* Recognise one simple command's words (index is its position in the script). */
static int
simple_command(struct shell_facts *f, const char *const *words, size_t n, unsigned index,
	       const char *heredoc_body, size_t heredoc_len)
{
	size_t p = program_index(words, n);
	char prog[32];

	if (p >= n) {
		return 0;
	}
	program_of(words[p], prog, sizeof(prog));
	if (strcmp(prog, "git") == 0 && git_commit(words, n, p)) {
		f->commit = true;
	} else if ((strcmp(prog, "gh") == 0 && creates_request(words, n, p, "pr", "create")) ||
		   (strcmp(prog, "glab") == 0 && creates_request(words, n, p, "mr", "create"))) {
		f->pull_request = true;
	} else if (index == 0 &&
		   (strcmp(prog, "apply_patch") == 0 || strcmp(prog, "applypatch") == 0)) {
		const char *t = heredoc_body != NULL ? heredoc_body : p + 1 < n ? words[p + 1] : NULL;
		size_t tl = heredoc_body != NULL ? heredoc_len : t != NULL ? strlen(t) : 0;
		f->patch = true;
		if (t != NULL && (f->patch_text = malloc(tl + 1)) == NULL) {
			return -ENOMEM;
		}
		if (t != NULL) {
			memcpy(f->patch_text, t, tl);
			f->patch_text[tl] = '\0';
			f->patch_len = tl;
		}
	}
	return 0;
}

/* Pending apply_patch of the first command, decided once its here-document is read. */
struct pending_cmd0 {
	bool waiting;
	const char **words;
	size_t n;
};

/* Copy $(...) or `...` into the open word; returns the index after it. */
static size_t
copy_subst(struct splitter *sp, size_t i)
{
	const char *s = sp->s;
	size_t n = sp->n;

	if (s[i] == '`') {
		word_put(sp, s[i++]);
		while (i < n && s[i] != '`') {
			if (s[i] == '\\' && i + 1 < n) {
				word_put(sp, s[i++]);
			}
			word_put(sp, s[i++]);
		}
		if (i < n) {
			word_put(sp, s[i++]);
		}
		return i;
	}
	/* "$(": count parentheses outside quotes */
	int depth = 0;
	word_put(sp, s[i++]);
	while (i < n) {
		char c = s[i];
		if (c == '\'') {
			word_put(sp, s[i++]);
			while (i < n && s[i] != '\'') {
				word_put(sp, s[i++]);
			}
			if (i < n) {
				word_put(sp, s[i++]);
			}
			continue;
		}
		if (c == '"') {
			word_put(sp, s[i++]);
			while (i < n && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < n) {
					word_put(sp, s[i++]);
				}
				word_put(sp, s[i++]);
			}
			if (i < n) {
				word_put(sp, s[i++]);
			}
			continue;
		}
		if (c == '\\' && i + 1 < n) {
			word_put(sp, s[i++]);
			word_put(sp, s[i++]);
			continue;
		}
		word_put(sp, s[i++]);
		if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			break;
		}
	}
	return i;
}

/* The simple command ends: recognise it (the first waits for its here-document). */
static void
command_end(struct splitter *sp, struct pending_cmd0 *pc)
{
	const char **v;

	word_end(sp);
	if (sp->w.n == 0) {
		return;
	}
	if ((v = malloc(sp->w.n * sizeof(*v))) == NULL) {
		sp->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < sp->w.n; i++) {
		v[i] = word(sp, i);
	}
	if (sp->cmd_index == 0 && sp->cmd0_has_heredoc) {
		/* its body follows the line: keep the words (the buffer stays) */
		pc->waiting = true;
		pc->words = v;
		pc->n = sp->w.n;
		sp->w.n = 0;
		sp->cmd_index++;
		return;
	}
	if (sp->err == 0) {
		sp->err = simple_command(sp->f, v, sp->w.n, sp->cmd_index, NULL, 0);
	}
	free(v);
	sp->w.n = 0;
	sp->cmd_index++;
}

/* After an unquoted newline: skip the bodies of the here-documents opened on the line. */
static size_t
read_heredocs(struct splitter *sp, size_t i, struct pending_cmd0 *pc)
{
	const char *s = sp->s;
	size_t n = sp->n;

	for (size_t h = 0; h < sp->n_hd; h++) {
		size_t body = i;
		size_t body_end = n;
		while (i < n) {
			const char *lf = memchr(s + i, '\n', n - i);
			size_t e = lf != NULL ? (size_t)(lf - s) : n;
			size_t b = i;
			if (sp->hd[h].strip_tabs) {
				while (b < e && s[b] == '\t') {
					b++;
				}
			}
			size_t dl = strlen(sp->hd[h].delim);
			if (e - b == dl && memcmp(s + b, sp->hd[h].delim, dl) == 0) {
				body_end = i;
				i = lf != NULL ? e + 1 : n;
				break;
			}
			i = lf != NULL ? e + 1 : n;
		}
		if (sp->hd[h].first_of_cmd0 && pc->waiting && sp->err == 0) {
			sp->err = simple_command(sp->f, pc->words, pc->n, 0, s + body,
						 body_end - body);
			free(pc->words);
			pc->waiting = false;
		}
		free(sp->hd[h].delim);
	}
	sp->n_hd = 0;
	return i;
}

static void
split_script(struct splitter *sp, struct pending_cmd0 *pc)
{
	const char *s = sp->s;
	size_t n = sp->n, i = 0;

	while (i < n && sp->err == 0) {
		char c = s[i];
		if (c == '\\') {
			if (i + 1 < n && s[i + 1] == '\n') {
				i += 2; /* a line joined */
			} else if (i + 1 < n) {
				word_put(sp, s[i + 1]);
				sp->w.digits_only = false;
				i += 2;
			} else {
				i++;
			}
		} else if (c == '\'') {
			word_touch(sp);
			i++;
			while (i < n && s[i] != '\'') {
				word_put(sp, s[i++]);
			}
			sp->w.digits_only = false;
			i++;
		} else if (c == '"') {
			word_touch(sp);
			i++;
			while (i < n && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < n && strchr("$`\"\\\n", s[i + 1]) != NULL) {
					if (s[i + 1] != '\n') {
						word_put(sp, s[i + 1]);
					}
					i += 2;
				} else if ((s[i] == '$' && i + 1 < n && s[i + 1] == '(') || s[i] == '`') {
					i = copy_subst(sp, i);
				} else {
					word_put(sp, s[i++]);
				}
			}
			sp->w.digits_only = false;
			i++;
		} else if ((c == '$' && i + 1 < n && s[i + 1] == '(') || c == '`') {
			i = copy_subst(sp, i);
			sp->w.digits_only = false;
		} else if (c == '#' && !sp->w.open) {
			while (i < n && s[i] != '\n') {
				i++;
			}
		} else if (c == ' ' || c == '\t') {
			word_end(sp);
			i++;
		} else if (c == '\n') {
			command_end(sp, pc);
			i = read_heredocs(sp, i + 1, pc);
		} else if (c == '<' || c == '>' || (c == '&' && i + 1 < n && s[i + 1] == '>')) {
			/* a word of digits right before the operator is its fd */
			if (sp->w.open && sp->w.digits_only) {
				sp->w.drop_next = true;
				word_end(sp);
			} else {
				word_end(sp);
			}
			if (c == '<' && i + 1 < n && s[i + 1] == '<' && !(i + 2 < n && s[i + 2] == '<')) {
				bool strip = i + 2 < n && s[i + 2] == '-';
				i += strip ? 3 : 2;
				sp->w.heredoc_next = true;
				sp->w.heredoc_strip = strip;
			} else {
				i++;
				while (i < n && (s[i] == '<' || s[i] == '>' || s[i] == '&' || s[i] == '|')) {
					i++;
				}
				sp->w.drop_next = true;
			}
		} else if (strchr(";&|()", c) != NULL) {
			command_end(sp, pc);
			i++;
		} else {
			word_put(sp, c);
			i++;
		}
	}
	command_end(sp, pc);
	(void)read_heredocs(sp, n, pc);
}

int
shell_script(const char *s, size_t n, struct shell_facts *ret)
{
	struct splitter sp;
	struct pending_cmd0 pc = {0};

	memset(ret, 0, sizeof(*ret));
	memset(&sp, 0, sizeof(sp));
	sp.s = s;
	sp.n = n;
	sp.f = ret;
	if ((sp.w.buf = malloc(n + 2)) == NULL) {
		return -ENOMEM;
	}
	split_script(&sp, &pc);
	if (pc.waiting) {
		/* a here-document never ended: the body runs to the end */
		if (sp.err == 0) {
			sp.err = simple_command(ret, pc.words, pc.n, 0, NULL, 0);
		}
		free(pc.words);
	}
	for (size_t h = 0; h < sp.n_hd; h++) {
		free(sp.hd[h].delim);
	}
	free(sp.hd);
	free(sp.w.at);
	free(sp.w.buf);
	if (sp.err < 0) {
		shell_facts_finish(ret);
	}
	return sp.err;
}

/* A shell's option that runs the next element as a script: -c, -lc, -ic, ... */
static bool
dash_c(const char *w)
{
	return w[0] == '-' && w[1] != '-' && strchr(w, 'c') != NULL;
}

int
shell_argv(const char *const *argv, const size_t *lens, size_t n, struct shell_facts *ret)
{
	char prog[32];

	memset(ret, 0, sizeof(*ret));
	if (n == 0) {
		return 0;
	}
	program_of(argv[0], prog, sizeof(prog));
	if (strcmp(prog, "bash") == 0 || strcmp(prog, "sh") == 0 || strcmp(prog, "zsh") == 0 ||
	    strcmp(prog, "dash") == 0 || strcmp(prog, "ksh") == 0 || strcmp(prog, "fish") == 0) {
		for (size_t i = 1; i + 1 < n; i++) {
			if (dash_c(argv[i])) {
				return shell_script(argv[i + 1], lens[i + 1], ret);
			}
		}
	} else if (strcmp(prog, "pwsh") == 0 || strcmp(prog, "powershell") == 0) {
		for (size_t i = 1; i + 1 < n; i++) {
			if (strcasecmp(argv[i], "-command") == 0 || strcasecmp(argv[i], "-c") == 0) {
				return shell_script(argv[i + 1], lens[i + 1], ret);
			}
		}
	} else if (strcmp(prog, "cmd") == 0) {
		for (size_t i = 1; i + 1 < n; i++) {
			if (strcasecmp(argv[i], "/c") == 0) {
				size_t total = 0, o = 0;
				char *script;
				int r;
				for (size_t k = i + 1; k < n; k++) {
					total += lens[k] + 1;
				}
				if ((script = malloc(total + 1)) == NULL) {
					return -ENOMEM;
				}
				for (size_t k = i + 1; k < n; k++) {
					memcpy(script + o, argv[k], lens[k]);
					o += lens[k];
					script[o++] = k + 1 < n ? ' ' : '\0';
				}
				r = shell_script(script, o - 1, ret);
				free(script);
				return r;
			}
		}
	}
	return simple_command(ret, argv, n, 0, NULL, 0);
}

void
shell_facts_finish(struct shell_facts *f)
{
	free(f->patch_text);
	f->patch_text = NULL;
	f->patch_len = 0;
}

bool
shell_mcp_creates_pr(const char *tool)
{
	char t[64];
	size_t k = 0;

	for (const char *p = tool; *p && k + 1 < sizeof(t); p++) {
		char c = *p;
		if (c == '_' || c == '-') {
			continue;
		}
		t[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	t[k] = '\0';
	return strcmp(t, "createpullrequest") == 0 || strcmp(t, "createmergerequest") == 0;
}

bool
shell_plainly_none(const char *s, size_t n)
{
	/* without these every word is its own text, so a program named git,
	 * gh or glab shows as those letters */
	static const char quoting[] = "'\"\\$`";

	for (size_t i = 0; i < n; i++) {
		if (memchr(quoting, s[i], sizeof(quoting) - 1) != NULL || s[i] == '\0') {
			return false;
		}
	}
	return memmem(s, n, "git", 3) == NULL && memmem(s, n, "gh", 2) == NULL &&
	       memmem(s, n, "glab", 4) == NULL;
}
