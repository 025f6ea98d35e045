/* actions.c: action records into aimeter.ingest_actions() rows; see actions.h. */
#include "actions.h"

#include <errno.h>
#include <string.h>

#include "identity.h"

static const char *const kind_names[] = {
	"", "edit", "write", "shell", "commit", "pull_request", "subagent", "skill", "mcp", "web",
	"other",
};
static const char *const decision_names[] = { "unknown", "accepted", "rejected", "error" };

const char *
actions_kind_name(int kind)
{
	return kind > 0 && (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ?
		       kind_names[kind] :
		       "other";
}

const char *
actions_decision_name(int decision)
{
	return decision >= 0 && (size_t)decision < sizeof(decision_names) / sizeof(decision_names[0]) ?
		       decision_names[decision] :
		       "unknown";
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 :
		     (s[0] >> 3) == 30 ? 4 : 0;

	if (len == 0 || len > n || (len == 2 && s[0] < 0xc2) || (len == 4 && s[0] > 0xf4)) {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
	}
	/* Overlong 3/4-byte forms and surrogates are not UTF-8 PostgreSQL takes. */
	if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (len == 4 && s[0] == 0xf0 && s[1] < 0x90) || (len == 4 && s[0] == 0xf4 && s[1] >= 0x90)) {
		return 0;
	}
	return len;
}

/* A JSON string; the decoder already refused control characters. */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p);

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);

		if (len == 0) {
			fputc('?', f);
			i++;
			continue;
		}
		if (p[i] == '"' || p[i] == '\\') {
			fputc('\\', f);
		} else if (p[i] < 0x20) {
			fprintf(f, "\\u%04x", p[i]);
			i++;
			continue;
		}
		fwrite(p + i, 1, len, f);
		i += len;
	}
	fputc('"', f);
}

static void
json_hex(FILE *f, const uint8_t *b, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%02x", b[i]);
	}
	fputc('"', f);
}

int
actions_format(FILE *f, int *first, const uint8_t *key, size_t key_len, const char *device_id,
	       const char *device_team, const am_batch *batch, const uint8_t *faults)
{
	int written = 0;

	for (size_t i = 0; i < batch->n_actions; i++) {
		const am_action_record *a = batch->actions[i];
		uint8_t mac[AM_IDENTITY_HMAC_LEN];
		const char *team = a->team_hint;

		if (faults != NULL && faults[batch->n_events + i] != AM_EVENT_OK) {
			continue; /* acked as rejected; nothing of it is stored */
		}
		if ((team == NULL || team[0] == '\0') && device_team != NULL) {
			team = device_team;
		}
		fputs(*first ? "{" : ",{", f);
		*first = 0;
		fputs("\"id\":", f);
		json_hex(f, a->action_id.data, a->action_id.len);
		fprintf(f, ",\"ms\":%lld,\"tool\":", (long long)a->ts_ms);
		json_str(f, a->tool);
		fputs(",\"s\":", f);
		json_str(f, a->session);
		fputs(",\"p\":", f);
		json_str(f, a->project);
		/* The raw identity never reaches the database: only its keyed hash. */
		fputs(",\"u\":", f);
		if (a->user != NULL && a->user[0] != '\0' && key_len > 0 &&
		    identity_hmac(key, key_len, a->user, mac) == 0) {
			json_hex(f, mac, sizeof(mac));
		} else {
			fputs("\"\"", f);
		}
		fputs(",\"t\":", f);
		json_str(f, team);
		fputs(",\"d\":", f);
		if (device_id != NULL && device_id[0] != '\0') {
			json_str(f, device_id);
		} else {
			fputs("null", f);
		}
		fprintf(f, ",\"k\":\"%s\",\"c\":\"%s\",\"n\":", actions_kind_name((int)a->kind),
			actions_decision_name((int)a->decision));
		json_str(f, a->tool_name);
		fputs(",\"g\":", f);
		json_str(f, a->target);
		fputs(",\"x\":", f);
		json_str(f, a->file_ext);
		fprintf(f,
			",\"la\":%u,\"lr\":%u,\"pa\":%u,\"pr\":%u,\"cm\":%u,\"pq\":%u,\"sa\":%s}",
			a->lines_added, a->lines_removed, a->proposed_lines_added,
			a->proposed_lines_removed, a->commits, a->pull_requests,
			a->in_subagent ? "true" : "false");
		written++;
	}
	return ferror(f) ? -EIO : written;
}
