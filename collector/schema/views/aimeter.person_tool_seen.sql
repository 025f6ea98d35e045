-- Admin only (schema aimeter): first and last seen per person and tool,
-- by person key. Reading identities goes through aimeter.reveal() (audited).
CREATE OR REPLACE VIEW aimeter.person_tool_seen AS
SELECT s.person_key, s.tool, s.first_day AS first_seen, s.last_day AS last_seen
  FROM aimeter.activity_seen s
 WHERE s.tool <> '*';
GRANT INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES ON aimeter.person_tool_seen TO aimeter_admin;
