CREATE OR REPLACE TRIGGER negotiated_rates_append_only BEFORE UPDATE OR DELETE ON aimeter.negotiated_rates
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
