# doc/: prose that ships with the tarball.
dist_doc_DATA += doc/api.md
