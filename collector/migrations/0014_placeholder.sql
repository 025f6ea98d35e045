-- Placeholder: migration 0014 is added by another branch (resolved at merge).
SELECT 1;
