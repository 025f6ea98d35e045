-- 0005_gates_privacy.sql (issue 7): stage-gate initiatives, stalled
-- investment signals, per-person export and erasure, retention, grants.
-- See docs/reports-finance.md.

-- ---------------------------------------------------------------------------
-- Stage-gate initiatives. Criteria are written once (append-only) and carry
-- when they were set, so "set before the pilot started" can be checked.
CREATE TABLE aimeter.initiatives (
	initiative_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE CHECK (name <> ''),
	owner text NOT NULL CHECK (owner <> ''),
	value_category text NOT NULL CHECK (value_category IN
		('cost_reduction', 'revenue_growth', 'risk_avoidance', 'product_embedding')),
	scope_teams text[] NOT NULL DEFAULT '{}',
	scope_tools text[] NOT NULL DEFAULT '{}',
	scope_projects text[] NOT NULL DEFAULT '{}',
	start_date date NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE aimeter.initiative_criteria (
	initiative_id int NOT NULL REFERENCES aimeter.initiatives ON DELETE CASCADE,
	kind text NOT NULL CHECK (kind IN ('target', 'kill')),
	metric text NOT NULL CHECK (metric IN
		('active_people', 'active_share', 'events', 'cost', 'cost_per_active_person')),
	comparator text NOT NULL CHECK (comparator IN ('>=', '>', '<=', '<', '=')),
	target numeric NOT NULL,
	due date NOT NULL,
	set_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (initiative_id, kind)
);

-- ---------------------------------------------------------------------------
GRANT USAGE ON SCHEMA reporting TO aimeter_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO aimeter_reader;
GRANT ALL ON ALL TABLES IN SCHEMA aimeter TO aimeter_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA aimeter TO aimeter_admin;
