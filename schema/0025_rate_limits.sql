-- 0025_rate_limits.sql: rate limits (a token bucket per key), attached to
-- routes by rate_limit_id; listeners' max_connections_per_client.
CREATE TABLE rate_limits (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	rate INTEGER NOT NULL CHECK (rate BETWEEN 1 AND 1000000),
	per TEXT NOT NULL DEFAULT 'second' CHECK (per IN ('second', 'minute', 'hour')),
	burst INTEGER CHECK (burst IS NULL OR burst BETWEEN 1 AND 1000000),
	key TEXT NOT NULL DEFAULT 'client_ip',
	max_keys INTEGER NOT NULL DEFAULT 100000 CHECK (max_keys BETWEEN 64 AND 10000000)
);
ALTER TABLE routes ADD COLUMN rate_limit_id INTEGER REFERENCES rate_limits(id) ON DELETE RESTRICT;
CREATE INDEX routes_rate_limit ON routes(rate_limit_id);
ALTER TABLE listeners ADD COLUMN max_connections_per_client INTEGER
	CHECK (max_connections_per_client IS NULL OR max_connections_per_client BETWEEN 1 AND 1000000);
