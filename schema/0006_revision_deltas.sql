-- 0006_revision_deltas.sql: revisions stored as deltas between checkpoints
-- (api/rev_store.c), and how long they are kept.
--
-- checkpoint NULL: `config` is the whole document (a checkpoint). Else
-- `config` is an RFC 6902 JSON Patch against the previous revision, and
-- `checkpoint` the whole row its chain of patches starts from. `bytes` is
-- the length of `config` in bytes, `digest` a fingerprint of it (NULL on
-- rows written before this migration, which all stay checkpoints).
ALTER TABLE revisions ADD COLUMN checkpoint INTEGER CHECK (checkpoint IS NULL OR checkpoint < id);
ALTER TABLE revisions ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0);
ALTER TABLE revisions ADD COLUMN digest INTEGER;
UPDATE revisions SET bytes = length(CAST(config AS BLOB));
CREATE INDEX revisions_chain ON revisions (checkpoint, id) WHERE checkpoint IS NOT NULL;

-- Retention: the newest `keep` revisions and those younger than
-- `keep_days` days are kept (0: no limit of that kind); the serving
-- revision's checkpoint and deltas always are.
CREATE TABLE revision_retention (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	keep INTEGER NOT NULL CHECK (keep BETWEEN 0 AND 100000000),
	keep_days INTEGER NOT NULL CHECK (keep_days BETWEEN 0 AND 36500)
) STRICT;
INSERT INTO revision_retention (id, keep, keep_days) VALUES (1, 10000, 365);
