/* sqlite-ro.c: a live SQLite database, read-only with its WAL; see sqlite-ro.h. */
#include "sqlite-ro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
sqlite_ro_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
		return -EBADMSG;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

/* A fail of rc: its errno, with SQLite's text kept in db->err. */
static int
fail(struct sqlite_ro *db, int rc)
{
	snprintf(db->err, sizeof(db->err), "%s",
		 db->db != NULL ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
	return sqlite_ro_errno(rc) < 0 ? sqlite_ro_errno(rc) : -EIO;
}

/* "file:" + path + tail, percent-encoding every byte a URI would read otherwise. */
static char *
path_uri(const char *path, const char *tail)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *uri = malloc(5 + 3 * n + strlen(tail) + 1);
	char *p = uri;

	if (uri == NULL) {
		return NULL;
	}
	p += sprintf(p, "file:");
	for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("/._-~", *c) != NULL) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	strcpy(p, tail);
	return uri;
}

/* Whether a -wal is next to the database: a writer is, or was, at work. */
static bool
has_wal(const struct sqlite_ro *db)
{
	struct stat st;

	return stat(db->wal, &st) == 0 || errno != ENOENT;
}

/* Open path with the URI's tail and read its schema. An SQLite result code. */
static int
open_uri(struct sqlite_ro *db, const char *path, const char *tail, int busy_ms)
{
	/* NOFOLLOW: in all-users mode a user must not point the reader at another's file. */
	const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
			  SQLITE_OPEN_NOFOLLOW;
	char *uri = path_uri(path, tail);
	int rc;

	if (uri == NULL) {
		return SQLITE_NOMEM;
	}
	rc = sqlite3_open_v2(uri, &db->db, flags, NULL);
	free(uri);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db->db, busy_ms);
		/* Read the schema now: a file that is no database (or is locked) says so here. */
		rc = sqlite3_exec(db->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	}
	return rc;
}

int
sqlite_ro_open(struct sqlite_ro *db, const char *path, int busy_ms)
{
	size_t n = strlen(path);
	int rc, r;

	memset(db, 0, sizeof(*db));
	db->wal = malloc(n + 5);
	if (db->wal == NULL) {
		snprintf(db->err, sizeof(db->err), "out of memory");
		return -ENOMEM;
	}
	memcpy(db->wal, path, n);
	memcpy(db->wal + n, "-wal", 5);
	rc = open_uri(db, path, "?mode=ro", busy_ms);
	if ((rc & 0xff) == SQLITE_READONLY && !has_wal(db)) {
		/* A closed WAL database and no -shm may be made here: see sqlite-ro.h. */
		sqlite3_close(db->db);
		db->db = NULL;
		db->immutable = true;
		rc = open_uri(db, path, "?mode=ro&immutable=1", busy_ms);
	}
	if (rc != SQLITE_OK) {
		goto fail;
	}
	return 0;
fail:
	r = fail(db, rc);
	sqlite_ro_close(db);
	return r;
}

void
sqlite_ro_close(struct sqlite_ro *db)
{
	if (db == NULL) {
		return;
	}
	/* A read-only connection never checkpoints or removes the -wal on close. */
	(void)sqlite3_close(db->db);
	db->db = NULL;
	free(db->wal);
	db->wal = NULL;
}

static int
has_table_cb(void *ctx, sqlite3_stmt *st)
{
	(void)st;
	*(bool *)ctx = true;
	return 1;
}

bool
sqlite_ro_has_table(struct sqlite_ro *db, const char *name)
{
	const struct sqlite_ro_arg arg = {.text = name};
	bool found = false;

	return sqlite_ro_query(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
			       &arg, 1, 1, 4096, has_table_cb, &found) >= 0 &&
	       found;
}

int
sqlite_ro_query(struct sqlite_ro *db, const char *sql, const struct sqlite_ro_arg *args,
		size_t n_args, size_t max_rows, size_t max_value, sqlite_ro_row_cb *cb, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0, old_limit;
	size_t rows = 0;

	if (db->db == NULL) {
		return -EBADF;
	}
	if (db->immutable && has_wal(db)) {
		snprintf(db->err, sizeof(db->err), "a writer opened the database, read it later");
		return -EBUSY;
	}
	old_limit = sqlite3_limit(db->db, SQLITE_LIMIT_LENGTH,
				  max_value > INT32_MAX ? INT32_MAX : (int)max_value);
	rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = fail(db, rc);
		goto out;
	}
	for (size_t i = 0; i < n_args && rc == SQLITE_OK; i++) {
		rc = args[i].text != NULL
			     ? sqlite3_bind_text(st, (int)i + 1, args[i].text, -1, SQLITE_STATIC)
			     : sqlite3_bind_int64(st, (int)i + 1, args[i].i);
	}
	if (rc != SQLITE_OK) {
		r = fail(db, rc);
		goto out;
	}
	while (rows < max_rows && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows++;
		r = cb(ctx, st);
		if (r != 0) {
			break;
		}
	}
	if (r < 0) {
		snprintf(db->err, sizeof(db->err), "%s", strerror(-r));
	} else if (r == 0 && rows < max_rows && rc != SQLITE_DONE) {
		r = fail(db, rc);
	} else {
		r = 0;
	}
out:
	sqlite3_finalize(st);
	sqlite3_limit(db->db, SQLITE_LIMIT_LENGTH, old_limit);
	if (r == 0) {
		db->err[0] = '\0';
	}
	return r < 0 ? r : (int)(rows > INT32_MAX ? INT32_MAX : rows);
}
