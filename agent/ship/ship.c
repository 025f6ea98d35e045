/* ship.c: see ship.h. */
#include "ship.h"

#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "action-wire.h"
#include "request-wire.h"
#include "am_config.h"
#include "backoff.h"
#include "clock.h"
#include "defer.h"
#include "hex.h"
#include "log.h"
#include "testhook.h"

#include "macros.h"

#define RESP_MAX 16384
#define RETRY_AFTER_MAX_S 3600

enum ship_state {
	SHIP_IDLE,     /* may send */
	SHIP_INFLIGHT, /* one transfer running */
	SHIP_WAIT,     /* backing off or honouring Retry-After */
	SHIP_CLOSING,
	SHIP_STATE_MAX
};

enum xfer_kind { XFER_BATCH, XFER_ENROLL, XFER_KIND_MAX };

struct xfer {
	struct ship *ship;
	enum xfer_kind kind;
	CURL *easy;
	struct curl_slist *headers;
	uint8_t *body;
	size_t body_len;
	char errbuf[CURL_ERROR_SIZE];
	uint8_t *resp;    /* the answer, grown up to resp_max; never NULL */
	size_t resp_len, resp_size, resp_max;
	long retry_after;
	bool upload_hooked;
	/* XFER_BATCH */
	struct spool_peek peek;
	struct spool_peek apeek; /* action records, when the batch carries them */
	uint64_t dropped_reported;
	bool with_ids; /* its events carry request ids (schema version 3) */
	char **hidden_ids; /* while encoding without them: the events' own */
};

/* One per socket curl asks us to watch (multi-uv.c's curl_context). */
struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct ship *ship;
	struct sock *next;
};

struct ship {
	uv_loop_t *loop;
	struct spool *spool;
	CURLM *multi;
	uv_timer_t curl_timer;
	uv_timer_t wake_timer;
	uv_timer_t idle_timer; /* drops idle connections and returns memory */
	int open_handles;

	char *url, *ca_file, *pin, *state_dir, *key_file;
	char *secret, *hostname, *os, *agent_version, *team_hint;
	size_t batch_events;
	uint64_t batch_bytes, batch_age_ms;
	uint64_t future_retry_ms; /* events refused as in the future wait this long (defer.h) */

	enum ship_state state;
	struct xfer *inflight;
	struct sock *socks;
	struct backoff backoff; /* reset by every success */
	size_t split_limit;
	bool flushing;
	bool enrolled;
	struct enroll_creds creds;
	uint8_t batch_id[16];
	struct spool_cursor batch_id_for; /* the batch the id belongs to */
	struct spool_cursor batch_id_for_actions;
	bool batch_id_valid;

	struct spool *actions;    /* borrowed; NULL: no action spool */
	uint32_t max_schema;      /* from the last BatchAck: 0 (an older collector) or more */
	bool schema_known;        /* an ack (or a 409) this run said it */
	bool refusal_logged;      /* "does not accept action records", once per run */
	int64_t probe_after_ms;   /* the next empty batch asking again */
	uint32_t ids_schema;      /* what the collector said last, kept across runs (request-wire.h) */
	uint64_t probe_ms;        /* only refused actions wait: ask that often (the backoff cap) */

	ship_enrolled_cb enrolled_cb;
	void *opaque;

	int64_t last_success_ms, last_error_ms;
	char last_error[512];
	unsigned errors_in_row;
};

static void ship_maybe_send(struct ship *s);
static void note_ids_schema(struct ship *s, uint32_t schema);
static int multi_open(struct ship *s);

static uint64_t
random_u64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		v = (uint64_t)clock_wall_ms() * 6364136223846793005ull + (uint64_t)getpid();
	}
	return v;
}

/*
 * libcurl is opened with dlopen when there is something to send and closed
 * again when the agent has been idle for a while. Debian's libcurl pulls in
 * about 25 libraries (GnuTLS, Kerberos, LDAP, RTMP, SSH...) for protocols
 * the agent never speaks; mapped, they cost about 3.5 MB of resident pages
 * and their relocated data, all the time, for an upload a minute at most.
 * Only the functions below are used, called through this table.
 */
static struct curl_lib {
	void *dl;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
} lib;

#define CURL_SYM(f) {"curl_" #f, offsetof(struct curl_lib, f)}
static const struct {
	const char *name;
	size_t offset;
} curl_syms[] = {
	CURL_SYM(easy_init),	     CURL_SYM(easy_setopt),	    CURL_SYM(easy_getinfo),
	CURL_SYM(easy_cleanup),	     CURL_SYM(easy_strerror),	    CURL_SYM(multi_init),
	CURL_SYM(multi_setopt),	     CURL_SYM(multi_add_handle),    CURL_SYM(multi_remove_handle),
	CURL_SYM(multi_socket_action), CURL_SYM(multi_assign),	    CURL_SYM(multi_info_read),
	CURL_SYM(multi_cleanup),     CURL_SYM(slist_append),	    CURL_SYM(slist_free_all),
	CURL_SYM(global_init),	     CURL_SYM(global_cleanup),
};

/* Open libcurl and initialise it; 0 or a negative errno (logged). */
static int
curl_lib_open(void)
{
	if (lib.dl != NULL) {
		return 0;
	}
	/*
	 * GnuTLS (loaded for librtmp and libldap, never used) otherwise
	 * initialises itself and p11-kit in its constructor at every load.
	 */
	(void)setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0); /* only a saving, ignoring */
	lib.dl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (lib.dl == NULL) {
		log_warnx("could not load libcurl: %s", dlerror());
		return -ELIBACC;
	}
	for (size_t i = 0; i < sizeof(curl_syms) / sizeof(curl_syms[0]); i++) {
		void *f = dlsym(lib.dl, curl_syms[i].name);
		if (f == NULL) {
			log_warnx("could not find %s in libcurl: %s", curl_syms[i].name, dlerror());
			goto fail;
		}
		memcpy((char *)&lib + curl_syms[i].offset, &f, sizeof(f));
	}
	if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("could not initialise libcurl");
		goto fail;
	}
	return 0;
fail:
	(void)dlclose(lib.dl); /* nothing of it is in use, ignoring */
	memset(&lib, 0, sizeof(lib));
	return -ELIBACC;
}

/* True when this thread is the process's only one. */
static bool
single_threaded(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL) {
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n == 1;
}

/*
 * Close libcurl when no handle of it is left. A resolver thread that curl
 * abandoned after a timeout may still run its code, so with other threads
 * alive it stays open until the next idle period.
 */
static void
curl_lib_close(void)
{
	if (lib.dl == NULL || !single_threaded()) {
		return;
	}
	lib.global_cleanup();
	if (dlclose(lib.dl) != 0) {
		log_warnx("could not unload libcurl: %s, ignoring", dlerror());
	}
	memset(&lib, 0, sizeof(lib));
}

/* --- status file for `aimeter-agent status` ----------------------------------------- */

static void
write_status(struct ship *s)
{
	char path[4200], tmp[4300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/status", s->state_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		return; /* informational only */
	}
	fprintf(f, "pid %ld\nenrolled %d\nlast_success_ms %" PRId64 "\nlast_error_ms %" PRId64
		   "\nlast_error %s\ncollector_schema %d\n",
		(long)getpid(), s->enrolled ? 1 : 0, s->last_success_ms, s->last_error_ms,
		s->last_error, s->schema_known ? (int)(s->max_schema ? s->max_schema : 1) : 0);
	if (fclose(f) == 0) {
		(void)rename(tmp, path); /* informational only */
	}
}

static void
note_error(struct ship *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note_error(struct ship *s, const char *fmt, ...)
{
	char msg[sizeof(s->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->errors_in_row++;
	/* Rate limit: a new message, or every 20th repeat. */
	if (strcmp(msg, s->last_error) != 0 || s->errors_in_row % 20 == 1) {
		log_warnx("%s", msg);
	}
	strcpy(s->last_error, msg);
	s->last_error_ms = clock_wall_ms();
	write_status(s);
}

static void
note_success(struct ship *s)
{
	if (s->errors_in_row > 0) {
		log_info("collector reachable again after %u failed attempts", s->errors_in_row);
	}
	s->errors_in_row = 0;
	backoff_reset(&s->backoff);
	s->last_success_ms = clock_wall_ms();
	write_status(s);
}

/* --- timers ------------------------------------------------------------------------- */

static void
ship_wake_cb(uv_timer_t *t)
{
	struct ship *s = container_of(t, struct ship, wake_timer);

	if (s->state == SHIP_WAIT) {
		s->state = SHIP_IDLE;
	}
	ship_maybe_send(s);
}

static void
wait_ms(struct ship *s, uint64_t ms)
{
	s->state = SHIP_WAIT;
	uv_timer_start(&s->wake_timer, ship_wake_cb, ms, 0);
}

/* Wait before trying again: full jitter under a doubling ceiling (common/backoff.h). */
static void
backoff(struct ship *s)
{
	wait_ms(s, backoff_next(&s->backoff));
}

/* --- curl on the loop (multi-uv.c) -------------------------------------------------- */

static void
sock_close_cb(uv_handle_t *h)
{
	struct sock *k = container_of((uv_poll_t *)h, struct sock, poll);
	struct ship *s = k->ship;

	free(k);
	if (--s->open_handles == 0 && s->state == SHIP_CLOSING) {
		free(s);
	}
}

static void
sock_unlink(struct ship *s, struct sock *k)
{
	for (struct sock **pp = &s->socks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			return;
		}
	}
}

static void xfer_done(struct xfer *x, CURLcode code);

static void
check_multi_info(struct ship *s)
{
	CURLMsg *msg;
	int pending;

	while ((msg = lib.multi_info_read(s->multi, &pending)) != NULL) {
		if (msg->msg != CURLMSG_DONE) {
			continue;
		}
		struct xfer *x = NULL;
		CURLcode code = msg->data.result;
		lib.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		xfer_done(x, code);
	}
}

static void
sock_poll_cb(uv_poll_t *p, int status, int events)
{
	struct sock *k = container_of(p, struct sock, poll);
	struct ship *s = k->ship;
	int flags = 0, running;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	}
	if (events & UV_READABLE) {
		flags |= CURL_CSELECT_IN;
	}
	if (events & UV_WRITABLE) {
		flags |= CURL_CSELECT_OUT;
	}
	lib.multi_socket_action(s->multi, k->fd, flags, &running);
	check_multi_info(s);
}

static int
curl_socket_cb(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
	struct ship *s = userp;
	struct sock *k = socketp;
	int events = 0;

	(void)easy;
	switch (action) {
	case CURL_POLL_IN:
	case CURL_POLL_OUT:
	case CURL_POLL_INOUT:
		if (k == NULL) {
			k = calloc(1, sizeof(*k));
			if (k == NULL) {
				return -1; /* curl fails the transfer; it is retried */
			}
			if (uv_poll_init_socket(s->loop, &k->poll, fd) < 0) {
				free(k);
				return -1;
			}
			k->fd = fd;
			k->ship = s;
			k->next = s->socks;
			s->socks = k;
			s->open_handles++;
			lib.multi_assign(s->multi, fd, k);
		}
		if (action != CURL_POLL_OUT) {
			events |= UV_READABLE;
		}
		if (action != CURL_POLL_IN) {
			events |= UV_WRITABLE;
		}
		uv_poll_start(&k->poll, events, sock_poll_cb);
		break;
	case CURL_POLL_REMOVE:
		if (k != NULL) {
			uv_poll_stop(&k->poll);
			sock_unlink(s, k);
			uv_close((uv_handle_t *)&k->poll, sock_close_cb);
			lib.multi_assign(s->multi, fd, NULL);
		}
		break;
	default:
		break;
	}
	return 0;
}

static void
curl_timer_cb(uv_timer_t *t)
{
	struct ship *s = container_of(t, struct ship, curl_timer);
	int running;

	lib.multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(s);
}

static int
curl_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct ship *s = userp;

	(void)multi;
	if (timeout_ms < 0) {
		uv_timer_stop(&s->curl_timer);
	} else {
		uv_timer_start(&s->curl_timer, curl_timer_cb, timeout_ms == 0 ? 1 : (uint64_t)timeout_ms,
			       0);
	}
	return 0;
}

/* --- transfers ------------------------------------------------------------------------ */

static size_t
xfer_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb, room;

	if (x->resp_len + n > x->resp_size && x->resp_size < x->resp_max) {
		/* a BatchAck naming many rejected events: room for all of them */
		size_t want = x->resp_len + n > x->resp_max ? x->resp_max : x->resp_len + n;
		uint8_t *p = realloc(x->resp, want);
		if (p != NULL) {
			x->resp = p;
			x->resp_size = want;
		}
	}
	room = x->resp_size - x->resp_len;
	memcpy(x->resp + x->resp_len, ptr, n < room ? n : room);
	x->resp_len += n < room ? n : room;
	return n; /* the rest of a long answer is ignored, not an error */
}

static size_t
xfer_header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) - 1 && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		char tmp[32], *end;
		size_t len = n - (sizeof(name) - 1);
		if (len >= sizeof(tmp)) {
			len = sizeof(tmp) - 1;
		}
		memcpy(tmp, buf + sizeof(name) - 1, len);
		tmp[len] = '\0';
		long v = strtol(tmp, &end, 10);
		/* Delta-seconds only; an HTTP date falls back to backoff. */
		if (end != tmp && v >= 0) {
			x->retry_after = v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : v;
		}
	}
	return n;
}

static int
xfer_progress_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		 curl_off_t ulnow)
{
	struct xfer *x = clientp;

	(void)dltotal;
	(void)dlnow;
	if (!x->upload_hooked && ultotal > 0 && ulnow == ultotal) {
		x->upload_hooked = true;
		am_test_hook("upload");
	}
	return 0;
}

static void
xfer_free(struct xfer *x)
{
	if (x == NULL) {
		return;
	}
	if (x->easy != NULL) {
		if (x->ship != NULL && x->ship->multi != NULL) {
			lib.multi_remove_handle(x->ship->multi, x->easy);
		}
		lib.easy_cleanup(x->easy);
	}
	if (x->headers != NULL) {
		lib.slist_free_all(x->headers);
	}
	free(x->body);
	free(x->resp);
	spool_peek_free(&x->peek);
	spool_peek_free(&x->apeek);
	free(x);
}

/* A transfer whose answer may grow to resp_max bytes; NULL when out of memory. */
static struct xfer *
xfer_new(enum xfer_kind kind, size_t resp_max)
{
	struct xfer *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		return NULL;
	}
	x->kind = kind;
	x->resp = malloc(RESP_MAX);
	if (x->resp == NULL) {
		free(x);
		return NULL;
	}
	x->resp_size = RESP_MAX;
	x->resp_max = resp_max > RESP_MAX ? resp_max : RESP_MAX;
	return x;
}

static int
xfer_start(struct ship *s, struct xfer *x, const char *path)
{
	char url[4200], auth[ENROLL_TOKEN_MAX + 32];
	struct curl_slist *h;
	CURL *e;
	int r;

	x->ship = s;
	r = multi_open(s);
	if (r < 0) {
		return r;
	}
	x->easy = e = lib.easy_init();
	if (e == NULL) {
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", s->url, path);
	h = lib.slist_append(NULL, "Content-Type: application/x-protobuf");
	if (h != NULL && x->kind == XFER_BATCH) {
		struct curl_slist *h2 = lib.slist_append(h, "Content-Encoding: zstd");
		h = h2;
		if (h != NULL) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->creds.token);
			h2 = lib.slist_append(h, auth);
			explicit_bzero(auth, sizeof(auth));
			h = h2;
		}
	}
	if (h != NULL) {
		h = lib.slist_append(h, "Expect:"); /* no 100-continue round trip */
	}
	if (h == NULL) {
		/* curl_slist_append frees nothing on failure: the list leaks only on OOM paths */
		return -ENOMEM;
	}
	x->headers = h;

	if (lib.easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (s->ca_file != NULL && lib.easy_setopt(e, CURLOPT_CAINFO, s->ca_file) != CURLE_OK) ||
	    (s->pin != NULL && lib.easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, s->pin) != CURLE_OK) ||
	    lib.easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_POSTFIELDS, x->body) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_USERAGENT, "aimeter-agent/" AM_VERSION) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_TIMEOUT_MS, 120000L) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write_cb) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_HEADERFUNCTION, xfer_header_cb) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xfer_progress_cb) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_XFERINFODATA, x) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    lib.easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK) {
		return -ENOMEM;
	}
	if (lib.multi_add_handle(s->multi, e) != CURLM_OK) {
		return -ENOMEM;
	}
	s->inflight = x;
	s->state = SHIP_INFLIGHT;
	return 0;
}

/* --- enrollment ----------------------------------------------------------------------- */

static void
start_enroll(struct ship *s)
{
	struct xfer *x = xfer_new(XFER_ENROLL, RESP_MAX);
	struct enroll_info info = {
		.secret = s->secret,
		.hostname = s->hostname,
		.os = s->os,
		.agent_version = s->agent_version,
		.team_hint = s->team_hint,
	};
	int r;

	if (x == NULL) {
		backoff(s);
		return;
	}
	if (s->secret == NULL || s->secret[0] == '\0') {
		xfer_free(x);
		note_error(s, "could not enroll with \"%s\": no enrollment secret configured", s->url);
		backoff(s);
		return;
	}
	x->kind = XFER_ENROLL;
	r = enroll_request_encode(&info, &x->body, &x->body_len);
	if (r == 0) {
		r = xfer_start(s, x, "/v1/enroll");
	}
	if (r < 0) {
		xfer_free(x);
		s->inflight = NULL;
		s->state = SHIP_IDLE;
		backoff(s);
	}
}

static void
enroll_done(struct ship *s, struct xfer *x, long status)
{
	struct enroll_creds c;
	int r;

	if (status / 100 != 2) {
		char reason[200];
		size_t n = x->resp_len < sizeof(reason) - 1 ? x->resp_len : sizeof(reason) - 1;
		memcpy(reason, x->resp, n);
		reason[n] = '\0';
		for (size_t i = 0; i < n; i++) {
			if (reason[i] < ' ' || reason[i] > '~') {
				reason[i] = ' ';
			}
		}
		note_error(s, "could not enroll with \"%s\": HTTP %ld %s", s->url, status, reason);
		goto retry;
	}
	r = enroll_response_decode(x->resp, x->resp_len, &c);
	if (r < 0) {
		note_error(s, "could not enroll with \"%s\": malformed enrollment response", s->url);
		goto retry;
	}
	note_ids_schema(s, c.max_schema); /* before the first batch: it may carry ids */
	r = enroll_save(s->state_dir, s->key_file, &c);
	if (r < 0) {
		note_error(s, "could not store the device token in \"%s\": %s", s->state_dir,
			   strerror(-r));
		explicit_bzero(&c, sizeof(c));
		goto retry;
	}
	s->creds = c;
	explicit_bzero(&c, sizeof(c));
	s->enrolled = true;
	log_info("enrolled as device %s", s->creds.device_id);
	note_success(s);
	s->state = SHIP_IDLE;
	if (s->enrolled_cb != NULL) {
		s->enrolled_cb(s, s->opaque);
	}
	ship_maybe_send(s);
	return;
retry:
	if (x->retry_after > 0) {
		wait_ms(s, (uint64_t)x->retry_after * 1000);
	} else {
		backoff(s);
	}
}

/* --- batches ------------------------------------------------------------------------------ */

static void
quarantine(struct ship *s, struct xfer *x, long status)
{
	char dir[4200], path[4400], reason[200], hex[33];
	size_t n = x->resp_len < sizeof(reason) - 1 ? x->resp_len : sizeof(reason) - 1;
	int fd;

	memcpy(reason, x->resp, n);
	reason[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (reason[i] < ' ' || reason[i] > '~') {
			reason[i] = ' ';
		}
	}
	hex_encode(s->batch_id, 16, hex);
	snprintf(dir, sizeof(dir), "%s/quarantine", s->state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("could not create quarantine directory \"%s\"", dir);
	}
	snprintf(path, sizeof(path), "%s/%" PRId64 "-%s.batch.zst", dir, clock_wall_ms(), hex);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, x->body, x->body_len) != (ssize_t)x->body_len || fsync(fd) < 0) {
		log_warn("could not write quarantined batch \"%s\"", path);
	}
	if (fd >= 0) {
		close(fd);
	}
	log_warnx("collector rejected batch %s (%zu events) with HTTP %ld: %s; moved to \"%s\"",
		  hex, x->peek.n + x->apeek.n, status, reason, path);
	int r = spool_ack(s->spool, x->peek.end, 0, x->peek.n, true);
	if (r == 0 && x->apeek.n > 0) {
		r = spool_ack(s->actions, x->apeek.end, 0, x->apeek.n, true);
	}
	if (r < 0) {
		log_warnx("could not record the quarantined batch in the spool: %s", strerror(-r));
	}
}

static bool
actions_waiting(const struct ship *s)
{
	return s->actions != NULL && spool_pending(s->actions);
}

/* What the collector said about the schema, for request ids: kept across runs. */
static void
note_ids_schema(struct ship *s, uint32_t schema)
{
	int r;

	if (schema == s->ids_schema) {
		return;
	}
	s->ids_schema = schema;
	r = request_wire_save(s->state_dir, schema);
	if (r < 0) {
		log_warnx("could not record the collector's schema version in \"%s\": %s",
			  s->state_dir, strerror(-r));
	}
}

/* What a BatchAck says about the schema. */
static void
learn_schema(struct ship *s, const struct xfer *x)
{
	Aimeter__V1__BatchAck *ack = aimeter__v1__batch_ack__unpack(NULL, x->resp_len, x->resp);

	/* unreadable (cut at RESP_MAX): the version stays, but it counts as an answer */
	s->schema_known = true;
	if (ack != NULL) {
		s->max_schema = ack->max_schema_version;
		note_ids_schema(s, ack->max_schema_version);
		aimeter__v1__batch_ack__free_unpacked(ack, NULL);
	}
	if (!action_wire_allowed(s->max_schema)) {
		s->probe_after_ms = clock_wall_ms() + (int64_t)s->probe_ms;
	}
}

/* Once per run: the collector keeps action records out. */
static void
note_refusal(struct ship *s)
{
	struct spool_stats st;

	if (s->refusal_logged || !actions_waiting(s) || action_wire_allowed(s->max_schema)) {
		return;
	}
	spool_get_stats(s->actions, &st);
	log_warnx("collector does not accept action records (schema 2); keeping %" PRIu64
		  " actions spooled",
		  st.pending_events);
	s->refusal_logged = true;
}

/*
 * Before the ack removes the batch from the spool: the events the collector
 * refused as in the future go to the deferred store, to be sent again.
 */
static int
keep_future(struct ship *s, const struct xfer *x)
{
	Aimeter__V1__BatchAck *ack = aimeter__v1__batch_ack__unpack(NULL, x->resp_len, x->resp);
	am_usage_event **later = NULL;
	size_t n = 0;
	int r = 0;

	if (ack == NULL || ack->n_rejected == 0) {
		goto out;
	}
	later = calloc(ack->n_rejected, sizeof(*later));
	if (later == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ack->n_rejected; i++) {
		const Aimeter__V1__Rejected *rej = ack->rejected[i];
		/* index counts events first, then action records */
		if (strcmp(rej->reason, "future_timestamp") == 0 && rej->index < x->peek.n) {
			later[n++] = x->peek.events[rej->index];
		}
	}
	r = defer_save(s->state_dir, later, n, clock_wall_ms() + (int64_t)s->future_retry_ms);
	if (r == 0 && n > 0) {
		log_warnx("collector refused %zu events as in the future (this clock or the tool's "
			  "ahead of the collector's?); keeping them, sent again in %" PRIu64 " s",
			  n, s->future_retry_ms / 1000);
	}
out:
	free(later);
	if (ack != NULL) {
		aimeter__v1__batch_ack__free_unpacked(ack, NULL);
	}
	return r;
}

static void
batch_done(struct ship *s, struct xfer *x, long status)
{
	int r;

	if (status / 100 == 2) {
		am_test_hook("acked");
		r = keep_future(s, x);
		if (r < 0) {
			/* Not acknowledged: sent again, the stored events are duplicates then. */
			note_error(s, "could not keep the events the collector refused as in the "
				      "future: %s", strerror(-r));
			backoff(s);
			return;
		}
		r = spool_ack(s->spool, x->peek.end, x->dropped_reported, x->peek.n, false);
		if (r == 0 && x->apeek.n > 0) {
			/* a crash before this sends them again: the collector keeps the first */
			r = spool_ack(s->actions, x->apeek.end, 0, x->apeek.n, false);
		}
		learn_schema(s, x);
		note_refusal(s);
		if (r < 0) {
			/* Delivered but not recorded: it will be sent again, and deduplicated. */
			note_error(s, "could not record delivered batch in the spool: %s", strerror(-r));
			backoff(s);
			return;
		}
		s->batch_id_valid = false;
		s->split_limit = s->batch_events;
		log_debug("delivered %zu events, %zu action records", x->peek.n, x->apeek.n);
		note_success(s);
		s->state = SHIP_IDLE;
		ship_maybe_send(s);
		return;
	}
	size_t items = x->peek.n + x->apeek.n; /* splits count events and actions alike */

	if (status == 400 && items > 1 && x->resp_len > 6 && memcmp(x->resp, "event ", 6) == 0) {
		/*
		 * The collector names one event: halve until it is alone, so only
		 * it is quarantined, never the other events (other users') that
		 * shared its batch; about 2 log2(batch) extra requests per bad event.
		 * Other 400s are faults of the batch as a whole.
		 */
		s->split_limit = items / 2;
		s->batch_id_valid = false;
		log_info("collector refused one event of a batch of %zu; splitting it", items);
		s->state = SHIP_IDLE;
		ship_maybe_send(s);
		return;
	}
	switch (status) {
	case 400:
	case 415:
		quarantine(s, x, status);
		s->batch_id_valid = false;
		s->state = SHIP_IDLE;
		note_error(s, "collector rejected a batch with HTTP %ld; it was quarantined", status);
		ship_maybe_send(s);
		return;
	case 401:
		note_error(s, "collector refused the device token (HTTP 401); enrolling again");
		s->enrolled = false;
		explicit_bzero(&s->creds, sizeof(s->creds));
		r = enroll_forget(s->state_dir);
		if (r < 0) {
			log_warnx("could not remove the refused device token: %s", strerror(-r));
		}
		s->state = SHIP_IDLE;
		backoff(s); /* enroll again after a short pause */
		return;
	case 413:
		if (items <= 1) {
			quarantine(s, x, status);
			s->batch_id_valid = false;
			s->state = SHIP_IDLE;
			ship_maybe_send(s);
			return;
		}
		s->split_limit = items / 2;
		s->batch_id_valid = false;
		log_info("collector found a batch of %zu events too large; splitting it", items);
		s->state = SHIP_IDLE;
		ship_maybe_send(s);
		return;
	case 409:
		if (x->with_ids) {
			/* downgraded: its events go again without their request ids */
			note_ids_schema(s, 0);
			s->batch_id_valid = false;
			log_info("collector refused a batch with request ids (HTTP 409); sending it "
				 "without them");
			if (x->apeek.n == 0) {
				s->state = SHIP_IDLE;
				ship_maybe_send(s);
				return;
			}
		}
		if (x->apeek.n > 0) {
			/* downgraded: forget the version, usage goes alone, the actions stay */
			s->max_schema = 0;
			s->schema_known = true;
			s->probe_after_ms = clock_wall_ms() + (int64_t)s->probe_ms;
			s->batch_id_valid = false;
			log_info("collector refused a batch with action records (HTTP 409); sending "
				 "usage alone");
			note_refusal(s);
			s->state = SHIP_IDLE;
			ship_maybe_send(s);
			return;
		}
		note_error(s, "collector does not support schema version %d (HTTP 409); keeping the data",
			   AM_SCHEMA_VERSION);
		break;
	default:
		note_error(s, "collector answered HTTP %ld to a batch; keeping the data", status);
		break;
	}
	if (x->retry_after > 0) {
		wait_ms(s, (uint64_t)x->retry_after * 1000);
	} else {
		backoff(s);
	}
}

static void
xfer_done(struct xfer *x, CURLcode code)
{
	struct ship *s = x->ship;
	long status = 0;

	s->inflight = NULL;
	s->state = SHIP_IDLE;
	if (code != CURLE_OK) {
		note_error(s, "could not %s \"%s\": %s%s%s",
			   x->kind == XFER_ENROLL ? "enroll with" : "send a batch to", s->url,
			   lib.easy_strerror(code), x->errbuf[0] ? ": " : "", x->errbuf);
		xfer_free(x);
		backoff(s);
		return;
	}
	lib.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (x->kind == XFER_ENROLL) {
		enroll_done(s, x, status);
	} else {
		batch_done(s, x, status);
	}
	xfer_free(x);
}

/* Only refused actions wait, and it is time to ask the collector again. */
static bool
probe_due(const struct ship *s)
{
	return actions_waiting(s) && !action_wire_allowed(s->max_schema) &&
	       (!s->schema_known || clock_wall_ms() >= s->probe_after_ms);
}

/* A collector that has not said 3 refuses field 19: the ids stay in the spool. */
static int
hide_ids(struct xfer *x)
{
	if (x->peek.n == 0 || !request_wire_any(x->peek.events, x->peek.n)) {
		return 0;
	}
	x->hidden_ids = calloc(x->peek.n, sizeof(*x->hidden_ids));
	if (x->hidden_ids == NULL) {
		return -ENOMEM;
	}
	request_wire_hide(x->peek.events, x->peek.n, x->hidden_ids);
	return 0;
}

static void
restore_ids(struct xfer *x)
{
	if (x->hidden_ids != NULL) {
		request_wire_restore(x->peek.events, x->peek.n, x->hidden_ids);
		free(x->hidden_ids);
		x->hidden_ids = NULL;
	}
}

static int
start_batch(struct ship *s)
{
	struct spool_stats st;
	am_batch b = AIMETER__V1__BATCH__INIT;
	/* the ack names each rejected item: index, id and reason, under 96 bytes */
	struct xfer *x = xfer_new(XFER_BATCH, RESP_MAX + 96 * s->split_limit);
	int r;

	if (x == NULL) {
		return -ENOMEM;
	}
	r = spool_peek(s->spool, s->split_limit, &x->peek);
	spool_get_stats(s->spool, &st);
	if (r == 0 && x->peek.n < s->split_limit && actions_waiting(s) &&
	    action_wire_allowed(s->max_schema)) {
		r = spool_peek(s->actions, s->split_limit - x->peek.n, &x->apeek);
	}
	/*
	 * No events but unreported drops: an empty batch carries the count.
	 * Only refused actions wait: an empty batch asks the collector again.
	 */
	if (r < 0 || (x->peek.n == 0 && x->apeek.n == 0 && st.dropped_pending == 0 && !probe_due(s))) {
		xfer_free(x);
		return r;
	}
	if (x->apeek.n == 0 && actions_waiting(s)) {
		s->probe_after_ms = clock_wall_ms() + (int64_t)s->probe_ms;
	}
	x->dropped_reported = st.dropped_pending;
	/* The same batch keeps its id across retries. */
	if (!s->batch_id_valid || s->batch_id_for.seq != x->peek.end.seq ||
	    s->batch_id_for.idx != x->peek.end.idx ||
	    s->batch_id_for_actions.seq != x->apeek.end.seq ||
	    s->batch_id_for_actions.idx != x->apeek.end.idx) {
		uint64_t a = random_u64(), c = random_u64();
		memcpy(s->batch_id, &a, 8);
		memcpy(s->batch_id + 8, &c, 8);
		s->batch_id_for = x->peek.end;
		s->batch_id_for_actions = x->apeek.end;
		s->batch_id_valid = true;
	}
	/* a batch without actions or request ids is exactly the schema-1 batch old collectors know */
	x->with_ids = request_wire_allowed(s->ids_schema) &&
		      request_wire_any(x->peek.events, x->peek.n);
	b.schema_version = x->with_ids	      ? AM_SCHEMA_VERSION_REQUEST_IDS :
			   x->apeek.n > 0     ? AM_SCHEMA_VERSION_ACTIONS :
						AM_SCHEMA_VERSION;
	b.device_id = s->creds.device_id;
	b.agent_version = s->agent_version;
	b.agent_os = s->os;
	b.batch_id.data = s->batch_id;
	b.batch_id.len = sizeof(s->batch_id);
	b.n_events = x->peek.n;
	b.events = x->peek.events;
	b.n_actions = x->apeek.n;
	b.actions = x->apeek.actions;
	b.spool_dropped_events = x->dropped_reported;
	r = x->with_ids ? 0 : hide_ids(x);
	if (r == 0) {
		r = am_batch_encode(&b, &x->body, &x->body_len);
		restore_ids(x);
	}
	if (r == 0) {
		r = xfer_start(s, x, "/v1/batches");
	}
	if (r < 0) {
		s->inflight = NULL;
		s->state = SHIP_IDLE;
		xfer_free(x);
		return r;
	}
	return 1;
}

/* Open libcurl and the multi handle if they are not open. */
static int
multi_open(struct ship *s)
{
	CURLM *m;
	int r;

	if (s->multi != NULL) {
		return 0;
	}
	r = curl_lib_open();
	if (r < 0) {
		return r;
	}
	m = lib.multi_init();
	if (m == NULL) {
		return -ENOMEM;
	}
	lib.multi_setopt(m, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	lib.multi_setopt(m, CURLMOPT_SOCKETDATA, s);
	lib.multi_setopt(m, CURLMOPT_TIMERFUNCTION, curl_timer_fn);
	lib.multi_setopt(m, CURLMOPT_TIMERDATA, s);
	s->multi = m;
	return 0;
}

/* Close curl's sockets and its multi handle (the polls stop first). */
static void
multi_destroy(struct ship *s)
{
	if (s->multi == NULL) {
		return;
	}
	for (struct sock *k = s->socks; k != NULL; k = k->next) {
		uv_poll_stop(&k->poll);
	}
	lib.multi_cleanup(s->multi);
	s->multi = NULL;
	while (s->socks != NULL) {
		struct sock *k = s->socks;
		s->socks = k->next;
		uv_close((uv_handle_t *)&k->poll, sock_close_cb);
	}
	uv_timer_stop(&s->curl_timer);
}

/*
 * Idle for a while with nothing to send: close the kept-alive connection, its
 * TLS state and libcurl, and hand freed heap back, so an idle agent stays
 * small. The next batch loads libcurl and connects again (once a minute at
 * most, by batch_age).
 */
static void
ship_idle_cb(uv_timer_t *t)
{
	struct ship *s = container_of(t, struct ship, idle_timer);

	if (s->state != SHIP_IDLE || s->inflight != NULL || spool_pending(s->spool)) {
		return;
	}
	multi_destroy(s);
	curl_lib_close();
	malloc_trim(0);
}

static void
ship_maybe_send(struct ship *s)
{
	struct spool_stats st;
	int64_t now, due;
	int r;

	if (s->state != SHIP_IDLE) {
		return;
	}
	if (!s->enrolled) {
		start_enroll(s);
		return;
	}
	spool_get_stats(s->spool, &st);
	if (actions_waiting(s) && action_wire_allowed(s->max_schema)) {
		struct spool_stats ast;
		spool_get_stats(s->actions, &ast);
		if (st.pending_events == 0 || (ast.oldest_pending_ms != 0 &&
					       ast.oldest_pending_ms < st.oldest_pending_ms)) {
			st.oldest_pending_ms = ast.oldest_pending_ms;
		}
		st.pending_events += ast.pending_events;
		st.pending_bytes += ast.pending_bytes;
	} else if (st.pending_events == 0 && st.dropped_pending == 0 && probe_due(s)) {
		r = start_batch(s); /* an empty batch: does the collector take actions now? */
		if (r < 0) {
			note_error(s, "could not prepare a batch: %s", strerror(-r));
			backoff(s);
		}
		return;
	}
	if (st.pending_events == 0 && st.dropped_pending == 0) {
		s->flushing = false;
		uv_timer_stop(&s->wake_timer);
		if (actions_waiting(s) && s->schema_known) {
			int64_t wait = s->probe_after_ms - clock_wall_ms();
			uv_timer_start(&s->wake_timer, ship_wake_cb, wait > 0 ? (uint64_t)wait : 1, 0);
		}
		uv_timer_start(&s->idle_timer, ship_idle_cb, 5000, 0);
		return;
	}
	now = clock_wall_ms();
	if (st.pending_events == 0) {
		st.oldest_pending_ms = 0; /* only drops to report: now */
	}
	due = st.oldest_pending_ms + (int64_t)s->batch_age_ms;
	if (!s->flushing && st.pending_events < s->batch_events && st.pending_bytes < s->batch_bytes &&
	    now < due) {
		uv_timer_start(&s->wake_timer, ship_wake_cb, (uint64_t)(due - now), 0);
		return;
	}
	r = start_batch(s);
	if (r < 0) {
		note_error(s, "could not prepare a batch: %s", strerror(-r));
		backoff(s);
	}
}

/* --- public ------------------------------------------------------------------------------- */

void
ship_kick(struct ship *s)
{
	ship_maybe_send(s);
}

void
ship_flush(struct ship *s)
{
	s->flushing = true;
	if (s->state == SHIP_WAIT) {
		/* An explicit flush skips the remaining backoff once. */
		uv_timer_stop(&s->wake_timer);
		s->state = SHIP_IDLE;
	}
	ship_maybe_send(s);
}

bool
ship_enrolled(const struct ship *s)
{
	return s->enrolled;
}

bool
ship_idle(const struct ship *s)
{
	return s->inflight == NULL && !spool_pending(s->spool) &&
	       !(actions_waiting(s) && action_wire_allowed(s->max_schema));
}

static void
timer_close_cb(uv_handle_t *h)
{
	struct ship *s = h->data;

	if (--s->open_handles == 0) {
		free(s);
	}
}

static void
free_strings(struct ship *s)
{
	free(s->url);
	free(s->ca_file);
	free(s->pin);
	free(s->state_dir);
	free(s->key_file);
	if (s->secret != NULL) {
		explicit_bzero(s->secret, strlen(s->secret));
	}
	free(s->secret);
	free(s->hostname);
	free(s->os);
	free(s->agent_version);
	free(s->team_hint);
}

void
ship_close(struct ship *s)
{
	if (s == NULL || s->state == SHIP_CLOSING) {
		return;
	}
	s->state = SHIP_CLOSING;
	if (s->inflight != NULL) {
		xfer_free(s->inflight); /* its data stays spooled */
		s->inflight = NULL;
	}
	/* Stop watching before curl closes its sockets, then close what is left. */
	multi_destroy(s);
	curl_lib_close();
	explicit_bzero(&s->creds, sizeof(s->creds));
	free_strings(s);
	uv_close((uv_handle_t *)&s->curl_timer, timer_close_cb);
	uv_close((uv_handle_t *)&s->wake_timer, timer_close_cb);
	uv_close((uv_handle_t *)&s->idle_timer, timer_close_cb);
}

static char *
dup_or_null(const char *v, bool *ok)
{
	char *d;

	if (v == NULL) {
		return NULL;
	}
	d = strdup(v);
	if (d == NULL) {
		*ok = false;
	}
	return d;
}

int
ship_create(uv_loop_t *loop, struct spool *spool, const struct ship_options *o,
	    ship_enrolled_cb cb, void *opaque, struct ship **ret_ship)
{
	struct ship *s;
	bool ok = true;
	int r;

	if (o->url == NULL || strncmp(o->url, "https://", 8) != 0) {
		log_warnx("collector URL \"%s\" is not https://: the agent only sends over HTTPS",
			  o->url ? o->url : "");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->loop = loop;
	s->spool = spool;
	s->enrolled_cb = cb;
	s->opaque = opaque;
	s->url = dup_or_null(o->url, &ok);
	/* A trailing slash would double in "/v1/...". */
	if (s->url != NULL && strlen(s->url) > 8 && s->url[strlen(s->url) - 1] == '/') {
		s->url[strlen(s->url) - 1] = '\0';
	}
	s->ca_file = dup_or_null(o->ca_file && o->ca_file[0] ? o->ca_file : NULL, &ok);
	s->pin = dup_or_null(o->pin && o->pin[0] ? o->pin : NULL, &ok);
	s->state_dir = dup_or_null(o->state_dir, &ok);
	s->key_file = dup_or_null(o->key_file, &ok);
	s->actions = o->actions;
	s->secret = dup_or_null(o->enroll.secret, &ok);
	s->hostname = dup_or_null(o->enroll.hostname ? o->enroll.hostname : "", &ok);
	s->os = dup_or_null(o->enroll.os ? o->enroll.os : "", &ok);
	s->agent_version = dup_or_null(o->enroll.agent_version ? o->enroll.agent_version : AM_VERSION,
				       &ok);
	s->team_hint = dup_or_null(o->enroll.team_hint ? o->enroll.team_hint : "", &ok);
	if (!ok || s->state_dir == NULL) {
		r = ok ? -EINVAL : -ENOMEM;
		goto fail;
	}
	s->batch_events = o->batch_events ? o->batch_events : 1000;
	s->split_limit = s->batch_events;
	s->batch_bytes = o->batch_bytes ? o->batch_bytes : (1u << 20);
	s->batch_age_ms = o->batch_age_ms ? o->batch_age_ms : 60000;
	s->future_retry_ms = o->future_retry_ms ? o->future_retry_ms : 3600000;
	/* at least 100 ms between tries, even when tests shorten the base */
	struct backoff_policy retry = {
		.base_ms = o->backoff_base_ms ? o->backoff_base_ms : 1000,
		.cap_ms = o->backoff_cap_ms ? o->backoff_cap_ms : 300000,
		.min_ms = 100,
	};
	backoff_init(&s->backoff, &retry, NULL, NULL);
	s->probe_ms = retry.cap_ms;

	/* libcurl and the multi handle open with the first transfer (multi_open). */
	uv_timer_init(loop, &s->curl_timer);
	uv_timer_init(loop, &s->wake_timer);
	uv_timer_init(loop, &s->idle_timer);
	s->curl_timer.data = s;
	s->wake_timer.data = s;
	s->idle_timer.data = s;
	s->open_handles = 3;

	s->ids_schema = request_wire_load(s->state_dir);
	r = enroll_load(s->state_dir, &s->creds);
	if (r == 0) {
		s->enrolled = true;
	} else if (r != -ENOENT) {
		log_warnx("could not use the device token in \"%s\": %s; enrolling again",
			  s->state_dir, strerror(-r));
	}
	s->state = SHIP_IDLE;
	write_status(s);
	*ret_ship = s;
	return 0;
fail:
	free_strings(s);
	free(s);
	return r;
}
