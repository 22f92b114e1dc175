# doc/: prose that ships with the tarball.
