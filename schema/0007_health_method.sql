-- 0007_health_method.sql: the request method of an origin's health check.
ALTER TABLE origins ADD COLUMN hc_method TEXT NOT NULL DEFAULT 'GET'
	CHECK (hc_method IN ('GET', 'HEAD', 'OPTIONS'));
