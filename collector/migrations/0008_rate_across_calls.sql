-- 0008_rate_across_calls.sql (issue 11): the plausibility caps hold across
-- calls, and a device's day has a volume cap. See docs/write-path.md.
--
-- Before: implausible_rate counted one device's events of one minute
-- within one call of ingest_rows() only, so a device spreading a minute
-- over many batches was never caught, and nothing bounded a device's day.
-- Now the definer keeps, per device, the calls of each minute and the
-- tokens of each day it inserted, and judges each call's new events
-- against what is stored:
--   implausible_rate          stored calls of the device and minute + the
--                             event's rank among the call's new events of
--                             that minute > max_calls_per_minute;
--   implausible_daily_volume  stored tokens of the device and UTC day + the
--                             call's new events of that day up to this one
--                             (time order) > max_tokens_per_device_day.
-- The counts grow by exactly the rows inserted (RETURNING): never by a
-- duplicate or a reject. Stored events stay duplicates, never rejected, so
-- a replay changes nothing. Two sessions writing the same device and minute
-- at once each read the count before the other's commit and may both pass
-- (the cap can be exceeded by one call's worth per concurrent session):
-- a bound on absurd values, not an exact quota. The upserts come after the
-- rollups' and in key order, so they add no new lock order.
--
-- Runs wholly as aimeter_owner (no superuser part): the new tables are the
-- owner's, with no grants; only the definer functions read and write them.

-- ---------------------------------------------------------------------------
-- A device's day: 2 * 10^10 tokens. A machine running an agent without a
-- pause for 24 hours, a call every 2 s with a full 200k-token context read
-- each time, sends 43,200 * 2 * 10^5 = 8.6 * 10^9; the heaviest real users
-- send under 10^9. Twice the non-stop machine is no one's day.
ALTER TABLE aimeter.settings
	ADD COLUMN max_tokens_per_device_day bigint NOT NULL DEFAULT 20000000000
		CHECK (max_tokens_per_device_day > 0);

-- One row per device and minute of event time (UTC) with inserted events.
CREATE TABLE aimeter.device_minute_calls (
	device_id uuid NOT NULL,
	minute timestamptz NOT NULL,
	calls int NOT NULL CHECK (calls > 0),
	PRIMARY KEY (device_id, minute)
);
-- One row per device and UTC day; numeric: the sum of seven bigints.
CREATE TABLE aimeter.device_day_tokens (
	device_id uuid NOT NULL,
	day date NOT NULL,
	tokens numeric NOT NULL CHECK (tokens >= 0),
	PRIMARY KEY (device_id, day)
);
REVOKE ALL ON aimeter.device_minute_calls, aimeter.device_day_tokens
	FROM PUBLIC, aimeter_admin, aimeter_ingest, aimeter_reader;

-- Events stored before 0108 count as if the tables had been kept from the
-- start (within the backfill horizon: older ones are refused anyway).
INSERT INTO aimeter.device_minute_calls (device_id, minute, calls)
SELECT e.device_id, date_trunc('minute', e.ts, 'UTC'), count(*)
  FROM aimeter.usage_events e, aimeter.settings s
 WHERE e.device_id IS NOT NULL
   AND e.ts >= now() - make_interval(months => s.backfill_horizon_months) - interval '1 day'
 GROUP BY 1, 2;
INSERT INTO aimeter.device_day_tokens (device_id, day, tokens)
SELECT e.device_id, (e.ts AT TIME ZONE 'UTC')::date,
       sum(e.input_tokens::numeric + e.output_tokens + e.cache_write_5m_tokens
	   + e.cache_write_1h_tokens + e.cache_read_tokens + e.reasoning_tokens)
  FROM aimeter.usage_events e, aimeter.settings s
 WHERE e.device_id IS NOT NULL
   AND e.ts >= now() - make_interval(months => s.backfill_horizon_months) - interval '1 day'
 GROUP BY 1, 2;

