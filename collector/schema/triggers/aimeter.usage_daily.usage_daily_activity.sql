CREATE OR REPLACE TRIGGER usage_daily_activity AFTER INSERT ON aimeter.usage_daily
	REFERENCING NEW TABLE AS am_daily_new
	FOR EACH STATEMENT EXECUTE FUNCTION aimeter.usage_daily_activity_tg();
