CREATE OR REPLACE TRIGGER fx_rates_append_only BEFORE UPDATE OR DELETE ON aimeter.fx_rates
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
