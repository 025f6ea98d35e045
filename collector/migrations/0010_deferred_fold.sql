-- 0010: the rollups folded after the insert, not in it (docs/write-path.md,
-- "The fold"). A batch is written unfolded; aimeter.fold_rollups() adds the
-- events of every committed unfolded batch to usage_daily and usage_monthly
-- at once and marks them folded. Batches logged before 0010 are in the
-- rollups already: folded. New ones start unfolded (the default).
ALTER TABLE aimeter.ingest_batches ADD COLUMN folded boolean NOT NULL DEFAULT true;
ALTER TABLE aimeter.ingest_batches ALTER COLUMN folded SET DEFAULT false;
CREATE INDEX ingest_batches_unfolded ON aimeter.ingest_batches (batch_ref) WHERE NOT folded;

-- The fold reads a batch's events by batch_ref (a btree on an increasing
-- key: appended at the right edge, cheap on insert).
CREATE INDEX usage_events_batch_ref ON aimeter.usage_events (batch_ref);

-- The events of identities already known to their device, one row per
-- device and batch (arrays: one row to write, not one per identity): the
-- write path records a fresh identity itself (for new_identities) and
-- leaves the counters of known ones here; the fold adds them to
-- device_identities and deletes the rows. No index: the fold takes all.
CREATE TABLE aimeter.device_identity_pending (
	device_id uuid NOT NULL,
	seen timestamptz NOT NULL,
	identity_hmacs bytea[] NOT NULL,
	events bigint[] NOT NULL
);
-- HMACs do not compress: do not try.
ALTER TABLE aimeter.device_identity_pending
	ALTER COLUMN identity_hmacs SET STORAGE EXTERNAL, ALTER COLUMN events SET STORAGE EXTERNAL;

-- The fold updates the rows of the current days again and again: room on
-- the page keeps those updates HOT (no new entry in the wide primary key).
ALTER TABLE aimeter.usage_daily SET (fillfactor = 70);
