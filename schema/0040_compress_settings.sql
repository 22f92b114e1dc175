-- 0040_compress_settings.sql: compression settings the user sets (were
-- fixed in daemon/compress*.c).
-- Per route (the "compress" object): the codings offered (a JSON array of
-- "gzip" and "br"; NULL or empty: both), the gzip level (1-9; NULL: 5)
-- and the brotli quality (0-11; NULL: 3).
ALTER TABLE routes ADD COLUMN compress_codings TEXT
	CHECK (compress_codings IS NULL OR
	       (json_valid(compress_codings) AND json_type(compress_codings) = 'array'));
ALTER TABLE routes ADD COLUMN compress_gzip_level INTEGER
	CHECK (compress_gzip_level IS NULL OR compress_gzip_level BETWEEN 1 AND 9);
ALTER TABLE routes ADD COLUMN compress_br_level INTEGER
	CHECK (compress_br_level IS NULL OR compress_br_level BETWEEN 0 AND 11);
-- The daemon's: the compressor memory one worker may hold at once (the
-- codecs' reserves; GET/PUT /settings/compression). One row.
CREATE TABLE compress_settings (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	worker_budget_bytes INTEGER NOT NULL
		CHECK (worker_budget_bytes BETWEEN 1048576 AND 17179869184)
);
INSERT INTO compress_settings (id, worker_budget_bytes) VALUES (1, 67108864);
