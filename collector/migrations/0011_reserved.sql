-- 0011: a placeholder so 0013_actions applies on this branch alone (issue 14).
-- Another change owns this number: delete this file when that migration
-- merges (embed-migrations refuses two files with one number).
SELECT 1;
