-- 0026_balance.sql: how an origin chooses a server. The first schema
-- allowed only 'round_robin' in origins.balance, and SQLite cannot widen
-- a CHECK in place: the choice moves to a new column, and the old one
-- stays, always 'round_robin', read by nothing.
ALTER TABLE origins ADD COLUMN balance_algorithm TEXT NOT NULL
	DEFAULT 'round_robin'
	CHECK (balance_algorithm IN ('round_robin', 'least_conn', 'p2c', 'hash', 'random'));
-- balance 'hash': client_ip (NULL), header:NAME, cookie:NAME or path.
ALTER TABLE origins ADD COLUMN hash_key TEXT
	CHECK (hash_key IS NULL OR length(hash_key) BETWEEN 1 AND 128);
