-- 0033_acme_ari.sql: ACME Renewal Information (RFC 9773) of each
-- certificate the ACME client manages.
--
-- ari_id names the issued certificate to its CA (base64url of the
-- issuer's key id "." base64url of the serial), set at each issue; NULL
-- when the certificate has no authority key identifier. ari_start and
-- ari_end are the CA's last suggested window (epoch seconds; NULL: none,
-- renewal at two thirds of the lifetime); next_renewal holds the moment
-- chosen at random inside it, kept while the window does not change.
-- ari_check is when to ask the CA again (NULL: never, the CA offers no
-- renewalInfo).
ALTER TABLE acme_certs ADD COLUMN ari_id TEXT;
ALTER TABLE acme_certs ADD COLUMN ari_start INTEGER;
ALTER TABLE acme_certs ADD COLUMN ari_end INTEGER;
ALTER TABLE acme_certs ADD COLUMN ari_check INTEGER;
