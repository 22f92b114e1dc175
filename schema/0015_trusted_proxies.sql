-- 0015_trusted_proxies.sql: the proxies (CDN, load balancer) in front of an
-- http or https listener, whose X-Forwarded-For is believed.
ALTER TABLE listeners ADD COLUMN trusted_proxies TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(trusted_proxies) AND json_type(trusted_proxies) = 'array');
