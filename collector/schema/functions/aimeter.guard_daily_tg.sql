-- Row guards on the rollups, installed only while some month is closed
-- and only for rows dated before the end of the latest closed month (a
-- constant in the trigger's WHEN clause, so the write path pays nothing
-- for current data). A change to a closed month's usage_daily becomes a
-- correction row; usage_monthly of a closed month is left alone.
-- `SET LOCAL aimeter.bypass_close = on` (erasure, retention: changes that
-- leave every team total as it was) passes through.
CREATE OR REPLACE FUNCTION aimeter.guard_daily_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_day date;
	v_sign int := 1;
	v aimeter.usage_daily;
	o aimeter.usage_daily;
BEGIN
	IF current_setting('aimeter.bypass_close', true) = 'on' THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF TG_OP = 'DELETE' THEN
		v := OLD;
		v_sign := -1;
	ELSE
		v := NEW;
	END IF;
	IF TG_OP = 'UPDATE' AND aimeter.is_closed(OLD.day) AND NOT aimeter.is_closed(NEW.day) THEN
		-- Moving a row out of a closed month: book its removal there.
		o := OLD;
		INSERT INTO aimeter.usage_corrections AS c
		VALUES (aimeter.open_month_after(o.day), o.day, o.team_id, o.cost_center_id, o.tool,
			o.model, o.billing_mode, -o.events, -o.input_tokens, -o.output_tokens,
			-o.cache_write_5m_tokens, -o.cache_write_1h_tokens, -o.cache_read_tokens,
			-o.reasoning_tokens, -o.web_search_requests, -o.cost, -o.unpriced_events)
		ON CONFLICT ON CONSTRAINT usage_corrections_pkey DO UPDATE SET
			events = c.events + excluded.events,
			input_tokens = c.input_tokens + excluded.input_tokens,
			output_tokens = c.output_tokens + excluded.output_tokens,
			cache_write_5m_tokens = c.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
			cache_write_1h_tokens = c.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
			cache_read_tokens = c.cache_read_tokens + excluded.cache_read_tokens,
			reasoning_tokens = c.reasoning_tokens + excluded.reasoning_tokens,
			web_search_requests = c.web_search_requests + excluded.web_search_requests,
			cost = c.cost + excluded.cost,
			unpriced_events = c.unpriced_events + excluded.unpriced_events;
		RETURN NEW;
	END IF;
	v_day := v.day;
	IF NOT aimeter.is_closed(v_day) THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		-- The change only: NEW minus OLD, keyed as NEW.
		v.events := NEW.events - OLD.events;
		v.input_tokens := NEW.input_tokens - OLD.input_tokens;
		v.output_tokens := NEW.output_tokens - OLD.output_tokens;
		v.cache_write_5m_tokens := NEW.cache_write_5m_tokens - OLD.cache_write_5m_tokens;
		v.cache_write_1h_tokens := NEW.cache_write_1h_tokens - OLD.cache_write_1h_tokens;
		v.cache_read_tokens := NEW.cache_read_tokens - OLD.cache_read_tokens;
		v.reasoning_tokens := NEW.reasoning_tokens - OLD.reasoning_tokens;
		v.web_search_requests := NEW.web_search_requests - OLD.web_search_requests;
		v.cost := NEW.cost - OLD.cost;
		v.unpriced_events := NEW.unpriced_events - OLD.unpriced_events;
		IF (NEW.day, NEW.team_id, NEW.cost_center_id, NEW.tool, NEW.model, NEW.billing_mode)
		   IS DISTINCT FROM (OLD.day, OLD.team_id, OLD.cost_center_id, OLD.tool, OLD.model,
				     OLD.billing_mode) THEN
			-- Re-keyed: all of OLD leaves, all of NEW arrives.
			o := OLD;
			INSERT INTO aimeter.usage_corrections AS c
			VALUES (aimeter.open_month_after(o.day), o.day, o.team_id, o.cost_center_id,
				o.tool, o.model, o.billing_mode, -o.events, -o.input_tokens,
				-o.output_tokens, -o.cache_write_5m_tokens, -o.cache_write_1h_tokens,
				-o.cache_read_tokens, -o.reasoning_tokens, -o.web_search_requests,
				-o.cost, -o.unpriced_events)
			ON CONFLICT ON CONSTRAINT usage_corrections_pkey DO UPDATE SET
				events = c.events + excluded.events,
				input_tokens = c.input_tokens + excluded.input_tokens,
				output_tokens = c.output_tokens + excluded.output_tokens,
				cache_write_5m_tokens = c.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
				cache_write_1h_tokens = c.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
				cache_read_tokens = c.cache_read_tokens + excluded.cache_read_tokens,
				reasoning_tokens = c.reasoning_tokens + excluded.reasoning_tokens,
				web_search_requests = c.web_search_requests + excluded.web_search_requests,
				cost = c.cost + excluded.cost,
				unpriced_events = c.unpriced_events + excluded.unpriced_events;
			v := NEW;
		END IF;
	END IF;
	INSERT INTO aimeter.usage_corrections AS c
	VALUES (aimeter.open_month_after(v.day), v.day, v.team_id, v.cost_center_id, v.tool,
		v.model, v.billing_mode, v_sign * v.events, v_sign * v.input_tokens,
		v_sign * v.output_tokens, v_sign * v.cache_write_5m_tokens,
		v_sign * v.cache_write_1h_tokens, v_sign * v.cache_read_tokens,
		v_sign * v.reasoning_tokens, v_sign * v.web_search_requests, v_sign * v.cost,
		v_sign * v.unpriced_events)
	ON CONFLICT ON CONSTRAINT usage_corrections_pkey DO UPDATE SET
		events = c.events + excluded.events,
		input_tokens = c.input_tokens + excluded.input_tokens,
		output_tokens = c.output_tokens + excluded.output_tokens,
		cache_write_5m_tokens = c.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
		cache_write_1h_tokens = c.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
		cache_read_tokens = c.cache_read_tokens + excluded.cache_read_tokens,
		reasoning_tokens = c.reasoning_tokens + excluded.reasoning_tokens,
		web_search_requests = c.web_search_requests + excluded.web_search_requests,
		cost = c.cost + excluded.cost,
		unpriced_events = c.unpriced_events + excluded.unpriced_events;
	RETURN NULL; -- the closed month's row stays as it was
END
$$;
REVOKE ALL ON FUNCTION aimeter.guard_daily_tg() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.guard_daily_tg() TO aimeter_admin;
