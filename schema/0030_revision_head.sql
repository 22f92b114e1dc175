-- 0030_revision_head.sql: a revision's head (checkpoint, digest, bytes)
-- without its document. Those columns were added after `config`, so
-- SQLite reaches them in a checkpoint row only by walking the document's
-- overflow pages (10 MB at 100,000 routes, read on every write after a
-- PUT /config). rev_store.c reads them through this covering index.
CREATE INDEX revisions_head ON revisions (id, checkpoint, digest, bytes);
