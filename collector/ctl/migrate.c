/* migrate.c: apply the embedded migrations and schema objects; see migrate.h. */
#include "migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any 64-bit number unique to aimeter: "aimeter\0" as ASCII. */
#define MIGRATE_LOCK_KEY "7596553063616554496"

static int
exec_cmd(PGconn *conn, const char *sql, char *err, size_t err_size)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "%s", PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

int
migrate_latest(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version : 0;
}

/*
 * The owner of every aimeter object and every SECURITY DEFINER function: not
 * a superuser, so definer code can never do more than aimeter's own tables.
 */
#define MIGRATE_OWNER "aimeter_owner"

/*
 * A migration may begin with a part for the superuser (handing objects over,
 * say), ended by this line; the rest, or all of a migration without it, runs
 * under SET ROLE aimeter_owner.
 */
static const char owner_mark[] = "\n-- migrate: the rest runs as " MIGRATE_OWNER "\n";

/* Run n bytes of sql (a migration's part); 0 or -1 with the error in err. */
static int
exec_part(PGconn *conn, const char *sql, size_t n, char *err, size_t err_size)
{
	char *part = strndup(sql, n);
	int rc;

	if (part == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	rc = exec_cmd(conn, part, err, err_size);
	free(part);
	return rc;
}

static int
apply_one(PGconn *conn, const struct migration *m, char *err, size_t err_size)
{
	char v[16];
	const char *params[3] = { v, m->name, m->sha256 };
	const char *mark = strstr(m->sql, owner_mark);
	const char *body = mark != NULL ? mark + 1 : m->sql;
	PGresult *r;
	char msg[512];

	snprintf(v, sizeof(v), "%d", m->version);
	if (exec_cmd(conn, "BEGIN", err, err_size) < 0) {
		return -1;
	}
	if ((mark != NULL && exec_part(conn, m->sql, (size_t)(mark - m->sql), msg, sizeof(msg)) < 0) ||
	    exec_cmd(conn, "SET LOCAL ROLE " MIGRATE_OWNER, msg, sizeof(msg)) < 0 ||
	    exec_cmd(conn, body, msg, sizeof(msg)) < 0 ||
	    exec_cmd(conn, "RESET ROLE", msg, sizeof(msg)) < 0) {
		snprintf(err, err_size, "migration %04d_%s failed: %s", m->version, m->name, msg);
		goto fail;
	}
	r = PQexecParams(conn,
			 "INSERT INTO aimeter.schema_migrations (version, name, sha256) "
			 "VALUES ($1, $2, $3)",
			 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, err_size, "could not record migration %04d: %s", m->version,
			 PQerrorMessage(conn));
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	return exec_cmd(conn, "COMMIT", err, err_size);
fail:
	/* The error above is what matters; a failed rollback only repeats it. */
	(void)exec_cmd(conn, "ROLLBACK", msg, sizeof(msg));
	return -1;
}

/* 1 if the session's role is a superuser, 0 if not, -1 on error. */
static int
is_superuser(PGconn *conn, char *err, size_t err_size)
{
	PGresult *r = PQexec(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
	int rc = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	} else {
		snprintf(err, err_size, "%s", PQerrorMessage(conn));
	}
	PQclear(r);
	return rc;
}

/*
 * What only a superuser may do, before any SET ROLE: the roles (cluster-wide;
 * two databases migrating at once may race, a duplicate is fine), the
 * owner's right to create schemas here, the extension, the schema. Each run;
 * all of it is idempotent.
 */
static const char bootstrap_sql[] =
	"DO $$\n"
	"DECLARE\n"
	"	r text;\n"
	"BEGIN\n"
	"	FOREACH r IN ARRAY ARRAY['" MIGRATE_OWNER "', 'aimeter_ingest', 'aimeter_reader',"
	" 'aimeter_admin', 'aimeter_finance'] LOOP\n"
	"		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN\n"
	"			BEGIN\n"
	"				EXECUTE format('CREATE ROLE %I NOLOGIN', r);\n"
	"			EXCEPTION WHEN duplicate_object OR unique_violation THEN\n"
	"				NULL;\n"
	"			END;\n"
	"		END IF;\n"
	"	END LOOP;\n"
	"	EXECUTE format('GRANT CREATE, TEMPORARY ON DATABASE %I TO " MIGRATE_OWNER "',"
	" current_database());\n"
	/* The migrations grant these roles (0001: aimeter_reader to aimeter_admin). */
	"	GRANT aimeter_ingest, aimeter_reader, aimeter_admin, aimeter_finance TO " MIGRATE_OWNER
	" WITH ADMIN OPTION;\n"
	"END\n"
	"$$;\n"
	"CREATE EXTENSION IF NOT EXISTS btree_gist;\n"
	"CREATE SCHEMA IF NOT EXISTS aimeter AUTHORIZATION " MIGRATE_OWNER;

/* The runner's own table, made by the owner when missing. */
static const char schema_sql[] =
	"SET ROLE " MIGRATE_OWNER ";"
	"CREATE SCHEMA IF NOT EXISTS aimeter;"
	"CREATE TABLE IF NOT EXISTS aimeter.schema_migrations ("
	" version int PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now());"
	"RESET ROLE";

/* Roles, extension, schema and the migrations table; 0 or -1 with err. */
static int
prepare(PGconn *conn, char *err, size_t err_size)
{
	PGresult *r;
	int super = is_superuser(conn, err, err_size), have;

	if (super < 0) {
		return -1;
	}
	if (super == 1 && exec_cmd(conn, bootstrap_sql, err, err_size) < 0) {
		return -1;
	}
	r = PQexec(conn, "SELECT pg_has_role('" MIGRATE_OWNER "', 'MEMBER'),"
			 " to_regclass('aimeter.schema_migrations') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		/* pg_has_role raises for a role that does not exist. */
		snprintf(err, err_size,
			 "run aimeterctl migrate as a superuser first: it creates the role "
			 MIGRATE_OWNER " that owns the schema (%s)",
			 PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		snprintf(err, err_size,
			 "aimeterctl migrate runs as a superuser or a member of " MIGRATE_OWNER);
		PQclear(r);
		return -1;
	}
	have = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	return have ? 0 : exec_cmd(conn, schema_sql, err, err_size);
}

/*
 * The versions the database has must be this build's first k, same names:
 * one series, applied in one order. Else a newer build migrated it, or it
 * predates the renumbering of the series (before the first release). A
 * recorded digest that differs is only reported: a migration never re-runs.
 * Returns k, or -1 with err.
 */
static int
applied_prefix(PGconn *conn, char *err, size_t err_size)
{
	PGresult *r = PQexec(conn, "SELECT version, name, sha256 FROM aimeter.schema_migrations"
				   " ORDER BY version");
	int n, rc;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "could not read the migrations table: %s",
			 PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	rc = n;
	for (int i = 0; i < n; i++) {
		const struct migration *m = (size_t)i < migrations_count ? &migrations[i] : NULL;
		const char *name = PQgetvalue(r, i, 1);

		if (m == NULL || atoi(PQgetvalue(r, i, 0)) != m->version ||
		    strcmp(name, m->name) != 0) {
			snprintf(err, err_size,
				 "the database has migration %s_%s, which this build does not"
				 " have as such (a newer aimeterctl, or a database made before"
				 " the series was renumbered: make it again)",
				 PQgetvalue(r, i, 0), name);
			rc = -1;
			break;
		}
		if (strcmp(PQgetvalue(r, i, 2), m->sha256) != 0) {
			/* Never re-run: say so, so the operator can look. */
			fprintf(stderr,
				"aimeterctl: migration %04d_%s differs from the one applied, ignoring\n",
				m->version, m->name);
		}
	}
	PQclear(r);
	return rc;
}

/* Made by the owner at the first schema object step, after the migrations. */
static const char objects_table_sql[] =
	"CREATE TABLE IF NOT EXISTS aimeter.schema_objects ("
	" name text PRIMARY KEY, sha256 text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

/* The digest recorded for name in r (name, sha256 rows), or NULL. */
static const char *
recorded_digest(PGresult *r, const char *name)
{
	for (int i = 0; i < PQntuples(r); i++) {
		if (strcmp(PQgetvalue(r, i, 0), name) == 0) {
			return PQgetvalue(r, i, 1);
		}
	}
	return NULL;
}

static int
record_object(PGconn *conn, const struct schema_object *o, char *err, size_t err_size)
{
	const char *params[2] = { o->name, o->sha256 };
	PGresult *r = PQexecParams(conn,
				   "INSERT INTO aimeter.schema_objects AS s (name, sha256) VALUES ($1, $2)"
				   " ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256,"
				   " applied_at = now()",
				   2, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, err_size, "%s", PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/*
 * Apply the schema objects whose digest changed (all when every_one), in
 * one transaction as the owner: a reader never sees half of a change. The
 * records of objects no longer embedded go (a versioned migration dropped
 * them). Returns the number applied, or -1 with err.
 */
static int
apply_objects(PGconn *conn, bool every_one, char *err, size_t err_size)
{
	PGresult *have = NULL;
	char msg[512];
	int n = 0;

	if (exec_cmd(conn, "BEGIN", err, err_size) < 0) {
		return -1;
	}
	if (exec_cmd(conn, "SET LOCAL ROLE " MIGRATE_OWNER, msg, sizeof(msg)) < 0 ||
	    exec_cmd(conn, objects_table_sql, msg, sizeof(msg)) < 0) {
		snprintf(err, err_size, "could not make aimeter.schema_objects: %s", msg);
		goto fail;
	}
	have = PQexec(conn, "SELECT name, sha256 FROM aimeter.schema_objects");
	if (PQresultStatus(have) != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "could not read aimeter.schema_objects: %s",
			 PQerrorMessage(conn));
		goto fail;
	}
	for (size_t i = 0; i < schema_objects_count; i++) {
		const struct schema_object *o = &schema_objects[i];
		const char *digest = recorded_digest(have, o->name);

		if (!every_one && digest != NULL && strcmp(digest, o->sha256) == 0) {
			continue;
		}
		if (exec_cmd(conn, o->sql, msg, sizeof(msg)) < 0 ||
		    record_object(conn, o, msg, sizeof(msg)) < 0) {
			snprintf(err, err_size, "schema object %s failed: %s", o->name, msg);
			goto fail;
		}
		n++;
	}
	for (int i = 0; i < PQntuples(have); i++) {
		const char *name = PQgetvalue(have, i, 0);
		const char *params[1] = { name };
		bool embedded = false;
		PGresult *r;

		for (size_t j = 0; j < schema_objects_count && !embedded; j++) {
			embedded = strcmp(schema_objects[j].name, name) == 0;
		}
		if (embedded) {
			continue;
		}
		r = PQexecParams(conn, "DELETE FROM aimeter.schema_objects WHERE name = $1", 1,
				 NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, err_size, "%s", PQerrorMessage(conn));
			PQclear(r);
			goto fail;
		}
		PQclear(r);
	}
	PQclear(have);
	if (exec_cmd(conn, "RESET ROLE", err, err_size) < 0 ||
	    exec_cmd(conn, "COMMIT", err, err_size) < 0) {
		(void)exec_cmd(conn, "ROLLBACK", msg, sizeof(msg));
		return -1;
	}
	return n;
fail:
	PQclear(have);
	/* The error above is what matters; a failed rollback only repeats it. */
	(void)exec_cmd(conn, "ROLLBACK", msg, sizeof(msg));
	return -1;
}

int
migrate_to(PGconn *conn, int to_version, int *ret_applied, int *ret_objects, char *ret_err,
	   size_t err_size)
{
	int latest = migrate_latest(), to = to_version > 0 ? to_version : latest;
	int applied = 0, objects = 0, have, rc = -1;
	char msg[512];

	if (to > latest) {
		snprintf(ret_err, err_size, "no migration %04d: this build's latest is %04d", to,
			 latest);
		return -1;
	}
	if (exec_cmd(conn, "SET client_min_messages = warning", ret_err, err_size) < 0 ||
	    exec_cmd(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", ret_err, err_size) < 0) {
		return -1;
	}
	if (prepare(conn, ret_err, err_size) < 0 ||
	    (have = applied_prefix(conn, ret_err, err_size)) < 0) {
		goto out;
	}
	if (to < have) {
		snprintf(ret_err, err_size, "the database is at version %04d, past %04d", have, to);
		goto out;
	}
	/* migrations[i] is version i + 1 (embed-migrations.py checks it). */
	for (int i = have; i < to; i++) {
		if (apply_one(conn, &migrations[i], ret_err, err_size) < 0) {
			goto out;
		}
		applied++;
	}
	/*
	 * The objects describe the latest tables: below them (migrate --to)
	 * they may not apply. After any versioned migration, all of them again:
	 * it may have dropped a view to change a column; cheap, and the result
	 * does not depend on the way the database came here.
	 */
	if (to >= latest) {
		objects = apply_objects(conn, applied > 0, ret_err, err_size);
		if (objects < 0) {
			goto out;
		}
	}
	if (ret_applied != NULL) {
		*ret_applied = applied;
	}
	if (ret_objects != NULL) {
		*ret_objects = objects;
	}
	rc = 0;
out:
	/* The session ends soon anyway; an unlock failure changes nothing. */
	(void)exec_cmd(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", msg, sizeof(msg));
	return rc;
}

int
migrate_run(PGconn *conn, int *ret_applied, char *ret_err, size_t err_size)
{
	return migrate_to(conn, 0, ret_applied, NULL, ret_err, err_size);
}

int
migrate_check_definers(PGconn *conn, FILE *out, char *err, size_t err_size)
{
	/* pg_temp last and explicit: else it is searched first, for tables. */
	PGresult *r = PQexec(conn,
			     "SELECT p.oid::regprocedure::text, o.rolname, o.rolsuper,"
			     " coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)"
			     " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
			     " JOIN pg_roles o ON o.oid = p.proowner"
			     " WHERE p.prosecdef AND n.nspname IN ('aimeter', 'reporting')"
			     " ORDER BY 1");
	int bad = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "%s", PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *fn = PQgetvalue(r, i, 0), *owner = PQgetvalue(r, i, 1);

		if (strcmp(PQgetvalue(r, i, 2), "t") == 0) {
			fprintf(out, "warning: SECURITY DEFINER %s is owned by the superuser %s"
				     " (run aimeterctl migrate as a superuser)\n", fn, owner);
			bad++;
		}
		if (strcmp(PQgetvalue(r, i, 3), "t") != 0) {
			fprintf(out, "warning: SECURITY DEFINER %s has no fixed search_path"
				     " (pg_catalog, pg_temp)\n", fn);
			bad++;
		}
	}
	if (bad == 0) {
		fprintf(out, "definer functions: %d, none owned by a superuser\n", PQntuples(r));
	}
	PQclear(r);
	/* A trigger runs as whoever writes, definer code included: only the owner's. */
	r = PQexec(conn, "SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text"
			 " || ' calls ' || t.tgfoid::regprocedure::text || ', owned by '"
			 " || pg_get_userbyid(p.proowner)"
			 " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
			 " JOIN pg_namespace n ON n.oid = c.relnamespace"
			 " JOIN pg_proc p ON p.oid = t.tgfoid"
			 " WHERE n.nspname IN ('aimeter', 'reporting') AND NOT t.tgisinternal"
			 " AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = '" MIGRATE_OWNER "')"
			 " UNION ALL"
			 " SELECT DISTINCT pg_get_userbyid(a.grantee) || ' may add triggers to '"
			 " || c.oid::regclass::text || ', owned by ' || pg_get_userbyid(c.relowner)"
			 " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,"
			 " aclexplode(c.relacl) a"
			 " WHERE n.nspname IN ('aimeter', 'reporting') AND a.privilege_type = 'TRIGGER'"
			 " AND a.grantee <> c.relowner"
			 " ORDER BY 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "%s", PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		fprintf(out, "warning: %s, not " MIGRATE_OWNER "\n", PQgetvalue(r, i, 0));
		bad++;
	}
	PQclear(r);
	return bad;
}
