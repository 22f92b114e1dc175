# doc/: prose that ships with the tarball.
dist_doc_DATA += doc/api.md doc/design.md doc/live-config.md
dist_doc_DATA += doc/tls.md
dist_doc_DATA += doc/config-model.md
dist_doc_DATA += doc/security.md
dist_doc_DATA += doc/compression.md
