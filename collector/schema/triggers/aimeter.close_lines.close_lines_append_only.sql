CREATE OR REPLACE TRIGGER close_lines_append_only BEFORE UPDATE ON aimeter.close_lines
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
