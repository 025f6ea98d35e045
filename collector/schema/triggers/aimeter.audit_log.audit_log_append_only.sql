CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON aimeter.audit_log
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
