-- 0018_header_rules.sql: a route's header rules (request and response
-- side: set and add are JSON objects of name to value template, remove a
-- JSON array of names), its request id, and its maintenance mode.
ALTER TABLE routes ADD COLUMN request_headers_set TEXT NOT NULL DEFAULT '{}'
	CHECK (json_valid(request_headers_set) AND json_type(request_headers_set) = 'object');
ALTER TABLE routes ADD COLUMN request_headers_add TEXT NOT NULL DEFAULT '{}'
	CHECK (json_valid(request_headers_add) AND json_type(request_headers_add) = 'object');
ALTER TABLE routes ADD COLUMN request_headers_remove TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(request_headers_remove) AND json_type(request_headers_remove) = 'array');
ALTER TABLE routes ADD COLUMN response_headers_set TEXT NOT NULL DEFAULT '{}'
	CHECK (json_valid(response_headers_set) AND json_type(response_headers_set) = 'object');
ALTER TABLE routes ADD COLUMN response_headers_add TEXT NOT NULL DEFAULT '{}'
	CHECK (json_valid(response_headers_add) AND json_type(response_headers_add) = 'object');
ALTER TABLE routes ADD COLUMN response_headers_remove TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(response_headers_remove) AND json_type(response_headers_remove) = 'array');
ALTER TABLE routes ADD COLUMN request_id INTEGER NOT NULL DEFAULT 0
	CHECK (request_id IN (0, 1));
ALTER TABLE routes ADD COLUMN maintenance_enabled INTEGER NOT NULL DEFAULT 0
	CHECK (maintenance_enabled IN (0, 1));
ALTER TABLE routes ADD COLUMN maintenance_retry_after_s INTEGER
	CHECK (maintenance_retry_after_s IS NULL OR maintenance_retry_after_s BETWEEN 0 AND 604800);
ALTER TABLE routes ADD COLUMN maintenance_allow TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(maintenance_allow) AND json_type(maintenance_allow) = 'array');
