-- 0002_tokens.sql: API bearer tokens for the admin API. Only the SHA-256 of
-- a token is stored; the token itself is shown once, at creation.
CREATE TABLE tokens (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	role TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'viewer')),
	token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
	created_by TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL DEFAULT (unixepoch()),
	expires_at INTEGER              -- unix seconds; NULL: never
) STRICT;
