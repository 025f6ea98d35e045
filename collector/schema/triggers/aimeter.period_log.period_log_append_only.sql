CREATE OR REPLACE TRIGGER period_log_append_only BEFORE UPDATE OR DELETE ON aimeter.period_log
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
