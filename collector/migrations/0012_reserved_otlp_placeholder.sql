-- 0012: a placeholder on the otlp branch only, so 0014_otlp.sql has its
-- predecessors (embed-migrations.py wants versions 1..N without gaps).
-- Another branch owns the real 0012; drop this file when that one merges.
SELECT 1;
