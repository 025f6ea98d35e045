CREATE OR REPLACE TRIGGER initiative_criteria_append_only BEFORE UPDATE ON aimeter.initiative_criteria
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();
