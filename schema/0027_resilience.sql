-- 0027_resilience.sql: server states and limits, request queues, sticky
-- sessions, passive health and retries (issue 13). Every column is
-- NULL or its default when the feature is off.

-- A server in 'drain' gets no new requests (in-flight ones finish), one
-- 'disabled' gets none at all. slow_start_s: its weight ramps up over
-- that long after it becomes usable. max_connections: most requests in
-- flight at once.
ALTER TABLE servers ADD COLUMN state TEXT NOT NULL DEFAULT 'active'
	CHECK (state IN ('active', 'drain', 'disabled'));
ALTER TABLE servers ADD COLUMN slow_start_s INTEGER NOT NULL DEFAULT 0
	CHECK (slow_start_s BETWEEN 0 AND 3600);
ALTER TABLE servers ADD COLUMN max_connections INTEGER
	CHECK (max_connections IS NULL OR max_connections BETWEEN 1 AND 1000000);

-- Requests wait for a server under its max_connections (queue_max NULL:
-- no queue, 503 at once).
ALTER TABLE origins ADD COLUMN queue_max INTEGER
	CHECK (queue_max IS NULL OR queue_max BETWEEN 1 AND 100000);
ALTER TABLE origins ADD COLUMN queue_timeout_ms INTEGER
	CHECK (queue_timeout_ms IS NULL OR queue_timeout_ms BETWEEN 1 AND 86400000);

-- Sticky sessions (sticky_cookie NULL: none).
ALTER TABLE origins ADD COLUMN sticky_cookie TEXT
	CHECK (sticky_cookie IS NULL OR length(sticky_cookie) BETWEEN 1 AND 64);
ALTER TABLE origins ADD COLUMN sticky_ttl_s INTEGER
	CHECK (sticky_ttl_s IS NULL OR sticky_ttl_s BETWEEN 0 AND 31536000);
ALTER TABLE origins ADD COLUMN sticky_secure INTEGER
	CHECK (sticky_secure IS NULL OR sticky_secure IN (0, 1));

-- Passive health (ph_consecutive_failures NULL: off).
ALTER TABLE origins ADD COLUMN ph_consecutive_failures INTEGER
	CHECK (ph_consecutive_failures IS NULL OR ph_consecutive_failures BETWEEN 1 AND 1000);
ALTER TABLE origins ADD COLUMN ph_failure_statuses TEXT
	CHECK (ph_failure_statuses IS NULL OR
	       (json_valid(ph_failure_statuses) AND json_type(ph_failure_statuses) = 'array'));
ALTER TABLE origins ADD COLUMN ph_eject_s INTEGER
	CHECK (ph_eject_s IS NULL OR ph_eject_s BETWEEN 1 AND 86400);
ALTER TABLE origins ADD COLUMN ph_max_ejected_percent INTEGER
	CHECK (ph_max_ejected_percent IS NULL OR ph_max_ejected_percent BETWEEN 0 AND 100);

-- Route retries (retry_attempts NULL: the one built-in retry only).
ALTER TABLE routes ADD COLUMN retry_attempts INTEGER
	CHECK (retry_attempts IS NULL OR retry_attempts BETWEEN 1 AND 10);
ALTER TABLE routes ADD COLUMN retry_on TEXT
	CHECK (retry_on IS NULL OR (json_valid(retry_on) AND json_type(retry_on) = 'array'));
ALTER TABLE routes ADD COLUMN retry_budget_percent INTEGER
	CHECK (retry_budget_percent IS NULL OR retry_budget_percent BETWEEN 0 AND 100);
