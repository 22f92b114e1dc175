/*
 * privdrop.h: leaving root for the service user.
 */
#ifndef GH_PRIVDROP_H
#define GH_PRIVDROP_H

#include "err.h"

/* Gives the database directory and files (<db_path>, -wal, -shm) to
 * <user> with modes 0700/0600, then switches every id to <user> keeping
 * only CAP_NET_BIND_SERVICE (effective and permitted), so listeners below
 * port 1024 can still be opened later. No new privileges can be gained
 * afterwards. Must run before any other thread starts.
 * Returns 0, or -1 with <e> filled.
 */
int privdrop(const char *user, const char *db_path, struct err *e);

#endif
