CREATE OR REPLACE TRIGGER billing_adjustments_append_only BEFORE UPDATE OR DELETE
	ON aimeter.billing_adjustments FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
