/*
 * api.h: the admin REST API (the api/ directory), started by main.c after the
 * boot publish. It runs on libmicrohttpd's own thread, which is the only SQLite
 * writer in the process (it opens its own store connection).
 */
#ifndef GH_API_H
#define GH_API_H

#include <stdint.h>

#include "err.h"

/* The admin listener's connection limits (api_conns.c). */
struct api_conn_limits {
	unsigned max_conns;  /* in all; beyond it the idlest is shed */
	unsigned max_per_ip; /* per client address */
	unsigned header_ms;  /* a request head must arrive within this */
	unsigned body_ms;    /* a request body within this of its head */
};

struct api_opts {
	const char *listen;    /* "127.0.0.1:9080", "[::1]:0"; port 0: any */
	const char *db_path;   /* the API opens its own store connection */
	const char *cert_file; /* admin TLS cert/key PEM files, or NULL */
	const char *key_file;
	const char *webui_dir; /* static web UI files, or NULL */
	/* Body limit of PUT /config and POST /config/validate in bytes
	 * (0: API_CONFIG_BODY_MAX_DEF, 64 MiB); every other endpoint
	 * takes 1 MiB. Larger bodies get 413.
	 */
	size_t config_body_max;
	struct api_conn_limits conns; /* 0s: the defaults (api_int.h) */
};

/* Opens the store, creates user "admin" on first start (password logged
 * once and written to <dir of db>/admin-password, mode 0600), and starts
 * serving. Plain HTTP only on loopback addresses; elsewhere HTTPS with
 * cert_file/key_file or a self-signed certificate generated next to the
 * database. Logs "[info] admin API listening on http(s)://ADDR:PORT/".
 * Returns 0, or -1 with <e> filled. Thread: main, once.
 */
int api_start(const struct api_opts *o, struct err *e);

/* Stops serving and closes the store. Safe when never started. */
void api_stop(void);

/* gatehoused --backup FILE / --restore FILE on the database <db> (the
 * other NULL), the passphrase from <pass_file>'s first line or from
 * $GATEHOUSE_BACKUP_PASSPHRASE. Returns the exit status (0 done, 1 failed,
 * 2 no usable passphrase). api_backup.c.
 */
int api_backup_cli(const char *db, const char *backup_file,
    const char *restore_file, const char *pass_file);

struct store;
/* Runs <fn> on the API's store connection while no request is handled
 * (the ACME thread's writes: the API stays the only writer). Its result,
 * or -2 when the API is not running. Thread: any but the API's.
 */
int api_with_store(int (*fn)(struct store *st, void *arg), void *arg);

/* The port the admin listener is bound to (0 before api_start). */
uint16_t api_bound_port(void);

#endif
