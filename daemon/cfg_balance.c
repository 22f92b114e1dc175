/*
 * cfg_balance.c: compiling an origin's balancing settings (schema 0019).
 *
 * Called by cfg_compile() for each origin row (columns by field,
 * cfg_field.h): the algorithm and, for "hash", what the hash is taken
 * over ("client_ip" when absent), checked with the value type the API
 * uses (cfg_value.h).
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "balance.h"
#include "cfg.h"
#include "cfg_field.h"
#include "store.h"

static int
bal_fail(const struct cfg_origin *o, int col, struct err *e, const char *msg)
{
	char field[160];

	snprintf(field, sizeof(field), "origins[%s].%s", o->name,
	    cf_kinds[CK_ORIGIN].f[col].key);
	return err_set(e, field, "%s", msg);
}

int
cfg_balance_origin(struct cfg *c, struct cfg_origin *o, struct store_stmt *s,
    struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_ORIGIN].f[OF_BALANCE];
	const char *v = store_col_is_null(s, OF_BALANCE)
	    ? f->def_str
	    : store_col_text(s, OF_BALANCE);
	char msg[160];
	int i = cf_enum_index(f, v);

	if (i < 0) {
		snprintf(msg, sizeof(msg), "\"%.32s\" is not allowed", v);
		return bal_fail(o, OF_BALANCE, e, msg);
	}
	o->balance = (enum cfg_balance)i;
	o->hash_on = CFG_HASH_CLIENT_IP;
	o->hash_name = NULL;
	if (store_col_is_null(s, OF_HASH_KEY))
		return 0;
	v = store_col_text(s, OF_HASH_KEY);
	if (cv_check(CV_HASH_KEY, v, msg, sizeof(msg)) != 0)
		return bal_fail(o, OF_HASH_KEY, e, msg);
	if (strcmp(v, "path") == 0)
		o->hash_on = CFG_HASH_PATH;
	else if (strncmp(v, "header:", 7) == 0)
		o->hash_on = CFG_HASH_HEADER;
	else if (strncmp(v, "cookie:", 7) == 0)
		o->hash_on = CFG_HASH_COOKIE;
	if (o->hash_on == CFG_HASH_HEADER || o->hash_on == CFG_HASH_COOKIE) {
		if ((o->hash_name = arena_strdup(c->arena, v + 7)) == NULL)
			return err_set(e, "",
			    "out of memory while compiling the configuration");
	}
	return 0;
}
