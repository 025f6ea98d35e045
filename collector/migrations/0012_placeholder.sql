-- Placeholder: migration 0012 is added by another branch (resolved at merge).
SELECT 1;
