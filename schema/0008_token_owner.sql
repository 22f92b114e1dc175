-- 0008_token_owner.sql: every token belongs to a user, its owner. A
-- token's effective role is the lower of its own and its owner's current
-- role, and the token is deleted with its owner (api/api_auth.c).
--
-- Tokens made before this migration name their maker in created_by: a
-- user's name, or "token:NAME" when another token made them. Owners are
-- found from those names; a token whose maker no longer exists (or was
-- renamed) keeps a NULL owner and is refused until replaced.
ALTER TABLE tokens ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
UPDATE tokens SET owner_id = (SELECT u.id FROM users u WHERE u.name = tokens.created_by);
UPDATE tokens SET owner_id = (SELECT t.owner_id FROM tokens t
	WHERE 'token:' || t.name = tokens.created_by)
	WHERE owner_id IS NULL AND created_by LIKE 'token:%';
CREATE INDEX tokens_owner ON tokens (owner_id);
