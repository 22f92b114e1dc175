-- 0005_health.sql: active health checks per origin. hc_path NULL: no check.
ALTER TABLE origins ADD COLUMN hc_path TEXT CHECK (hc_path IS NULL OR substr(hc_path, 1, 1) = '/');
ALTER TABLE origins ADD COLUMN hc_host TEXT;
ALTER TABLE origins ADD COLUMN hc_interval_ms INTEGER NOT NULL DEFAULT 5000
	CHECK (hc_interval_ms BETWEEN 100 AND 3600000);
ALTER TABLE origins ADD COLUMN hc_timeout_ms INTEGER NOT NULL DEFAULT 2000
	CHECK (hc_timeout_ms BETWEEN 10 AND 600000);
ALTER TABLE origins ADD COLUMN hc_rise INTEGER NOT NULL DEFAULT 2 CHECK (hc_rise BETWEEN 1 AND 100);
ALTER TABLE origins ADD COLUMN hc_fall INTEGER NOT NULL DEFAULT 3 CHECK (hc_fall BETWEEN 1 AND 100);
ALTER TABLE origins ADD COLUMN hc_status_min INTEGER NOT NULL DEFAULT 200
	CHECK (hc_status_min BETWEEN 100 AND 599);
ALTER TABLE origins ADD COLUMN hc_status_max INTEGER NOT NULL DEFAULT 399
	CHECK (hc_status_max BETWEEN 100 AND 599 AND hc_status_max >= hc_status_min);
