-- 0006_owner_role_device_binding.sql (issue 11): definer code trusts nothing
-- the caller can create; the schema belongs to a non-superuser owner role;
-- per-event rejection with a reason the collector sets; plausibility caps;
-- identities seen per device, new identity claims counted, admin pins.
-- See docs/write-path.md.
--
-- Before: ingest_staged() (SECURITY DEFINER, owned by postgres) read
-- pg_temp.am_stage* by name, and the usage_daily activity trigger wrote
-- pg_temp.am_act_new. A session of aimeter_ingest could create those
-- first, as views calling its own functions or with triggers, which then
-- ran as the superuser. Now:
--   - aimeter.ingest_staged() is SECURITY INVOKER: it reads the caller's
--     temp tables as the caller and passes their rows as arrays of the
--     template row types to aimeter.ingest_rows() (SECURITY DEFINER), which
--     reads only its arguments and aimeter's own tables;
--   - the activity trigger reads its transition table, never pg_temp;
--   - every object is owned by aimeter_owner (NOLOGIN, not a superuser);
--     `aimeterctl migrate` creates it and runs migration bodies under
--     SET ROLE aimeter_owner; the part above the marker line below runs as
--     the connecting superuser and hands the earlier migrations' objects
--     over.
--
-- Audit of the other SECURITY DEFINER functions (all SET search_path =
-- pg_catalog, pg_temp, every relation schema-qualified): reattribute() and
-- reattribute_rollups() make their scratch tables with CREATE TEMP TABLE
-- (no IF NOT EXISTS), so a caller's table of that name makes them fail,
-- never read; the others use no temporary relation.

-- ---------------------------------------------------------------------------
-- As the superuser: aimeter's objects (schemas aimeter and reporting) that
-- the earlier migrations made as a superuser, or as whoever runs this, go
-- to aimeter_owner. Objects of other owners (an admin's own) stay theirs.
DO $adopt$
DECLARE
	o record;
	v_me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
BEGIN
	FOR o IN
		SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me)
	LOOP
		EXECUTE format('ALTER SCHEMA %I OWNER TO aimeter_owner', o.nspname);
	END LOOP;
	-- Tables first: their owned sequences and indexes follow them.
	FOR o IN
		SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_roles r ON r.oid = c.relowner
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me)
		   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		   AND NOT (c.relkind = 'S' AND EXISTS (
			SELECT 1 FROM pg_depend d
			 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
			   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
		 ORDER BY c.relkind = 'S', c.oid
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO aimeter_owner',
			       CASE o.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
					      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
					      ELSE 'TABLE' END, o.rel);
	END LOOP;
	FOR o IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p
		  JOIN pg_namespace n ON n.oid = p.pronamespace
		  JOIN pg_roles r ON r.oid = p.proowner
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me) AND p.prokind IN ('f', 'p')
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO aimeter_owner', o.fn);
	END LOOP;
	-- Domains, enums, ranges and free-standing composite types.
	FOR o IN
		SELECT t.oid::regtype AS typ FROM pg_type t
		  JOIN pg_namespace n ON n.oid = t.typnamespace
		  JOIN pg_roles r ON r.oid = t.typowner
		  LEFT JOIN pg_class c ON c.oid = t.typrelid
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me)
		   AND (t.typtype IN ('d', 'e', 'r', 'm') OR (t.typtype = 'c' AND c.relkind = 'c'))
	LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO aimeter_owner', o.typ);
	END LOOP;
END
$adopt$;

-- migrate: the rest runs as aimeter_owner
-- (collector/ctl/migrate.c splits the migration at the line above.)

-- ---------------------------------------------------------------------------
-- Nobody but the owner may add triggers to aimeter's tables: a trigger
-- fires as whoever writes, and the definer functions write as the owner.
REVOKE TRIGGER ON ALL TABLES IN SCHEMA aimeter FROM PUBLIC, aimeter_admin, aimeter_ingest,
	aimeter_reader;
-- Nor create objects in schema aimeter next to the definer functions.
REVOKE CREATE ON SCHEMA aimeter FROM aimeter_admin;

-- ---------------------------------------------------------------------------
-- Plausibility caps (per event; configurable). No model call comes near
-- them: the largest context windows are about 2 million tokens and output
-- is capped far below, so one count above 10^8 (50 times the largest
-- window) or a sum above 2 * 10^8 is a broken or forged line. 600 calls in
-- one minute from one device is ten a second, sustained, from one machine.
ALTER TABLE aimeter.settings
	ADD COLUMN max_tokens_per_count bigint NOT NULL DEFAULT 100000000
		CHECK (max_tokens_per_count > 0),
	ADD COLUMN max_tokens_per_call bigint NOT NULL DEFAULT 200000000
		CHECK (max_tokens_per_call > 0),
	ADD COLUMN max_calls_per_minute int NOT NULL DEFAULT 600 CHECK (max_calls_per_minute > 0);

-- The collector's own verdict on an event it could not stage as is (a
-- timestamp before 1970, a count past any bound): NULL = fine.
ALTER TABLE aimeter.stage_event_template ADD COLUMN reject_reason text;

-- ---------------------------------------------------------------------------
-- A device speaks only for itself: the identities each device has sent
-- events for, and the admin's pins (docs/write-path.md). Admin only: the
-- reader and ingest roles read neither.
CREATE TABLE aimeter.device_identities (
	device_id uuid NOT NULL,
	identity_hmac bytea NOT NULL,
	first_seen timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now(),
	events bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (device_id, identity_hmac)
);

-- A pinned device (directly, or through the enrollment secret it enrolled
-- with) may send events only for its pinned identities or pinned teams
-- (the team attribution gives the event); others are rejected per event
-- as identity_not_allowed.
CREATE TABLE aimeter.device_pins (
	pin_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_id uuid REFERENCES aimeter.devices ON DELETE CASCADE,
	secret_hash bytea REFERENCES aimeter.enrollment_secrets ON DELETE CASCADE,
	identity_hmac bytea CHECK (length(identity_hmac) = 32),
	team_id int REFERENCES aimeter.teams ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by text NOT NULL DEFAULT session_user,
	CHECK ((device_id IS NULL) <> (secret_hash IS NULL)),
	CHECK ((identity_hmac IS NULL) <> (team_id IS NULL)),
	UNIQUE NULLS NOT DISTINCT (device_id, secret_hash, identity_hmac, team_id)
);
CREATE INDEX ON aimeter.device_pins (device_id);
CREATE INDEX ON aimeter.device_pins (secret_hash);

-- New identity claims (a device with identities sending a new one), per batch.
ALTER TABLE aimeter.ingest_batches ADD COLUMN new_identities int NOT NULL DEFAULT 0;

-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.device_identities, aimeter.device_pins
	TO aimeter_admin;
