-- Placeholder: migration 0013 is added by another branch (resolved at merge).
SELECT 1;
