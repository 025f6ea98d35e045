CREATE OR REPLACE TRIGGER devices_revoked AFTER UPDATE OF revoked_at ON aimeter.devices
	FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
	EXECUTE FUNCTION aimeter.device_revoked();
