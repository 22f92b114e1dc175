-- 0016_access_lists.sql: access lists (addresses allowed and denied, basic
-- auth users), attached to routes by access_list_id. Passwords are stored
-- as hashes only (argon2id, or an imported crypt(3) hash).
CREATE TABLE access_lists (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	allow TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(allow) AND json_type(allow) = 'array'),
	deny TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(deny) AND json_type(deny) = 'array'),
	default_action TEXT NOT NULL DEFAULT 'deny' CHECK (default_action IN ('allow', 'deny')),
	realm TEXT NOT NULL DEFAULT 'Restricted',
	satisfy TEXT NOT NULL DEFAULT 'any' CHECK (satisfy IN ('any', 'all'))
);
CREATE TABLE access_list_users (
	id INTEGER PRIMARY KEY,
	access_list_id INTEGER NOT NULL REFERENCES access_lists(id) ON DELETE CASCADE,
	position INTEGER NOT NULL DEFAULT 0,
	username TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	password_tag TEXT
);
CREATE INDEX access_list_users_list ON access_list_users(access_list_id, position);
ALTER TABLE routes ADD COLUMN access_list_id INTEGER REFERENCES access_lists(id) ON DELETE RESTRICT;
CREATE INDEX routes_access_list ON routes(access_list_id);
