-- 0035_compress.sql: route response compression (issue 12, item 9).
-- compress_types NULL: the route compresses nothing. Otherwise responses
-- whose Content-Type matches one of the patterns ("text/*",
-- "application/json") and whose known length is at least
-- compress_min_bytes are sent gzip or br, as the client accepts.
ALTER TABLE routes ADD COLUMN compress_types TEXT
	CHECK (compress_types IS NULL OR
	       (json_valid(compress_types) AND json_type(compress_types) = 'array'));
ALTER TABLE routes ADD COLUMN compress_min_bytes INTEGER
	CHECK (compress_min_bytes IS NULL OR compress_min_bytes BETWEEN 0 AND 1073741824);
