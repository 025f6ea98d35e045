CREATE OR REPLACE TRIGGER prices_append_only BEFORE UPDATE OR DELETE ON aimeter.prices
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
