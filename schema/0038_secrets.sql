-- 0038_secrets.sql: secrets the appliance makes for itself (issue 13).
-- One row per secret, by name; value is sealed with the key-encryption
-- key like private keys (daemon/kek.c), and opened once at start.
-- 'sticky_cookie' (daemon/balance_secret.c): the key that signs sticky
-- session cookies, made at the first start and kept, so a cookie holds
-- across restarts and configuration changes.
CREATE TABLE secrets (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	value BLOB NOT NULL
) STRICT;
