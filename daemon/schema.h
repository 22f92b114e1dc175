/*
 * schema.h: the migrations embedded from the schema/ migrations (generated
 * schema/schema.c). Migration i (0-based) moves user_version from i to i+1.
 */
#ifndef GH_SCHEMA_H
#define GH_SCHEMA_H

#include <stddef.h>

struct schema_migration {
	const char *name; /* "0001_init.sql" */
	const char *sql;
};

extern const struct schema_migration schema_migrations[];
extern const size_t schema_nmigrations;

#endif
