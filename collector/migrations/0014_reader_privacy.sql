-- 0014_reader_privacy.sql (issue 16 item 8): a plain reader sees every cell
-- with at least min_group_size people behind it, and smaller groups only
-- merged (aimeter.small_groups); the cost lines (ledger, FOCUS) need the
-- finance role, whose books must reconcile line by line. Admins are finance.
GRANT aimeter_reader TO aimeter_finance;
GRANT aimeter_finance TO aimeter_admin;
