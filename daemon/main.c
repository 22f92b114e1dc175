/*
 * main.c: gatehoused, the Gatehouse daemon.
 *
 * Order of things: parse options; open (creating on first start) and
 * migrate the store; drop to the service user while still alone (only
 * CAP_NET_BIND_SERVICE kept); compile the first snapshot; start the
 * workers and publish it through the same handoff every later change
 * uses; start the admin API; then wait for signals. SIGHUP re-reads the
 * store and publishes (an invalid store leaves the running config alone);
 * SIGTERM/SIGINT stop accepting, let requests in flight finish up to the
 * shutdown timeout, and exit 0. Under systemd (Type=notify) each of these
 * steps is also told to $NOTIFY_SOCKET (notify.c), and the watchdog is fed
 * from the main loop.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "access_log.h"
#include "acme.h"
#include "api.h"
#include "balance.h"
#include "cfg.h"
#include "compress.h"
#include "config.h"
#include "err.h"
#include "health.h"
#include "history.h"
#include "kek.h"
#include "log.h"
#include "notify.h"
#include "privdrop.h"
#include "publish.h"
#include "stats.h"
#include "store.h"
#include "worker.h"

#define DEF_DB             "/var/lib/gatehouse/gatehouse.db"
#define DEF_ADMIN          "127.0.0.1:9080"
#define DEF_SHUTDOWN_MS    10000u
#define PUBLISH_TIMEOUT_MS 5000u

struct opts {
	const char *db;
	const char *admin_listen;
	const char *admin_cert, *admin_key;
	const char *access_log;
	const char *user;
	const char *webui_dir;
	const char *backup, *restore, *pass_file; /* --backup/--restore */
	const char *kek; /* NULL: $CREDENTIALS_DIRECTORY or KEK_DEF_PATH */
	bool rotate_kek;
	unsigned workers;
	unsigned shutdown_ms;
	unsigned config_max_mb;             /* 0: the API's default */
	struct api_conn_limits admin_conns; /* 0s: the API's defaults */
};

static struct store *main_store;
static volatile int main_stopping;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: gatehoused [options]\n"
	    "  --db PATH               configuration database (default %s)\n"
	    "  --workers N             data-plane threads (default: one per core)\n"
	    "  --admin-listen A:P|off  admin API address (default %s)\n"
	    "  --admin-cert FILE       admin TLS certificate (PEM)\n"
	    "  --admin-key FILE        admin TLS private key (PEM)\n"
	    "  --admin-config-max-mb N body limit of PUT /config and POST\n"
	    "                          /config/validate in MiB (default 64)\n"
	    "  --admin-max-conns N     admin connections in all; beyond it the one\n"
	    "                          idle longest is closed (default 512)\n"
	    "  --admin-max-conns-per-ip N  per client address (default 64)\n"
	    "  --admin-max-header-ms N a request head must arrive within N ms\n"
	    "                          (default 10000)\n"
	    "  --admin-max-body-ms N   a request body within N ms of its head\n"
	    "                          (default 60000)\n"
	    "  --kek FILE              key-encryption key for private keys at rest\n"
	    "                          (default $CREDENTIALS_DIRECTORY/gatehouse-kek\n"
	    "                          or " KEK_DEF_PATH ", made if missing)\n"
	    "  --rotate-kek            re-seal every private key with a new KEK\n"
	    "                          and exit\n"
	    "  --webui-dir DIR         web UI files served by the admin listener\n"
	    "                          (default: the installed ones, if any)\n"
	    "  --log-level LEVEL       crit, warn, info or debug (default info)\n"
	    "  --access-log PATH|-|off access log file, - for stdout (default -)\n"
	    "  --user NAME             drop to this user after opening the store\n"
	    "  --shutdown-timeout-ms N drain deadline on SIGTERM (default %u)\n"
	    "  --backup FILE           write an encrypted backup of --db, exit\n"
	    "  --restore FILE          restore a backup into --db, exit\n"
	    "  --passphrase-file FILE  backup passphrase (else the environment\n"
	    "                          variable GATEHOUSE_BACKUP_PASSPHRASE)\n"
	    "  --version, --help\n",
	    DEF_DB, DEF_ADMIN, DEF_SHUTDOWN_MS);
}

static unsigned
parse_uint(const char *opt, const char *s, unsigned min, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		fatalx("%s: %s is not a number from %u to %u", opt, s, min,
		    max);
	return (unsigned)v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "admin-listen", required_argument, NULL, 'a' },
		{ "admin-cert", required_argument, NULL, 'C' },
		{ "admin-key", required_argument, NULL, 'K' },
		{ "admin-config-max-mb", required_argument, NULL, 'M' },
		{ "admin-max-conns", required_argument, NULL, 1001 },
		{ "admin-max-conns-per-ip", required_argument, NULL, 1002 },
		{ "admin-max-header-ms", required_argument, NULL, 1003 },
		{ "admin-max-body-ms", required_argument, NULL, 1004 },
		{ "kek", required_argument, NULL, 1010 },
		{ "rotate-kek", no_argument, NULL, 1011 },
		{ "webui-dir", required_argument, NULL, 'W' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "access-log", required_argument, NULL, 'A' },
		{ "user", required_argument, NULL, 'u' },
		{ "shutdown-timeout-ms", required_argument, NULL, 's' },
		{ "backup", required_argument, NULL, 'B' },
		{ "restore", required_argument, NULL, 'R' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long ncpu;
	int ch, lvl;

	o->db = DEF_DB;
	o->admin_listen = DEF_ADMIN;
	o->access_log = "-";
	o->shutdown_ms = DEF_SHUTDOWN_MS;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->workers = ncpu > 0 && ncpu < 256 ? (unsigned)ncpu : 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->db = optarg;
			break;
		case 'w':
			o->workers = parse_uint("--workers", optarg, 1, 256);
			break;
		case 'a':
			o->admin_listen = optarg;
			break;
		case 'C':
			o->admin_cert = optarg;
			break;
		case 'K':
			o->admin_key = optarg;
			break;
		case 'M':
			o->config_max_mb = parse_uint("--admin-config-max-mb",
			    optarg, 1, 4096);
			break;
		case 1001:
			o->admin_conns.max_conns =
			    parse_uint("--admin-max-conns", optarg, 1, 100000);
			break;
		case 1002:
			o->admin_conns.max_per_ip =
			    parse_uint("--admin-max-conns-per-ip", optarg, 1,
			        100000);
			break;
		case 1003:
			o->admin_conns.header_ms =
			    parse_uint("--admin-max-header-ms", optarg, 100,
			        3600000);
			break;
		case 1004:
			o->admin_conns.body_ms =
			    parse_uint("--admin-max-body-ms", optarg, 100,
			        3600000);
			break;
		case 1010:
			o->kek = optarg;
			break;
		case 1011:
			o->rotate_kek = true;
			break;
		case 'W':
			o->webui_dir = optarg;
			break;
		case 'l':
			if ((lvl = log_level_parse(optarg)) == -1)
				fatalx(
				    "--log-level: %s is not crit, warn, info or debug",
				    optarg);
			log_set_level((enum log_level)lvl);
			break;
		case 'A':
			o->access_log = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 's':
			o->shutdown_ms = parse_uint("--shutdown-timeout-ms",
			    optarg, 0, 3600000);
			break;
		case 'B':
			o->backup = optarg;
			break;
		case 'R':
			o->restore = optarg;
			break;
		case 'P':
			o->pass_file = optarg;
			break;
		case 'V':
			printf("gatehoused %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (o->backup != NULL && o->restore != NULL)
		fatalx("--backup and --restore: one at a time");
	if ((o->admin_cert == NULL) != (o->admin_key == NULL))
		fatalx("--admin-cert and --admin-key go together");
#ifdef GH_WEBUI_DIR
	/* The installed web UI, when there is one. */
	if (o->webui_dir == NULL &&
	    access(GH_WEBUI_DIR "/index.html", R_OK) == 0)
		o->webui_dir = GH_WEBUI_DIR;
#endif
}

/* Creates the database's directory (0700) on first start. */
static void
ensure_db_dir(const char *db)
{
	char *copy, *dir;

	if (strcmp(db, ":memory:") == 0)
		return;
	if ((copy = strdup(db)) == NULL)
		fatal("strdup");
	dir = dirname(copy);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal("database directory %s", dir);
	free(copy);
}

/* Compiles the store's configuration in one read transaction. */
static struct cfg *
load_cfg(struct store *st, struct err *e)
{
	struct cfg *c;

	if (store_exec(st, "BEGIN", e) == -1)
		return NULL;
	c = cfg_compile(st, e);
	(void)store_rollback(st);
	return c;
}

/* gatehoused --rotate-kek: exit status. */
static int
rotate_kek(const struct opts *o)
{
	struct store *st;
	struct err e;
	char buf[600];
	int n;

	err_clear(&e);
	if ((st = store_open(o->db, 0, &e)) == NULL ||
	    store_migrate(st, &e) != 0 || kek_load(o->kek, false, &e) != 0 ||
	    kek_seal_all(st, &e) < 0 || (n = kek_rotate(o->kek, st, &e)) < 0) {
		log_warnx("--rotate-kek: %s", err_str(&e, buf, sizeof(buf)));
		store_close(st);
		return 1;
	}
	store_close(st);
	log_info("--rotate-kek: %d private key%s and secrets sealed with a new "
	         "key",
	    n, n == 1 ? "" : "s");
	return 0;
}

static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	const char *delay;
	struct cfg *c;
	struct err e;
	char buf[600];

	err_clear(&e);
	log_info("SIGHUP: reading the configuration again");
	(void)notify_reloading();
	if ((c = load_cfg(main_store, &e)) == NULL) {
		stats_inc(STAT_CFG_REJECTED);
		log_warnx("config rejected: %s", err_str(&e, buf, sizeof(buf)));
		(void)notify_ready("serving (reload rejected, see the log)");
		return;
	}
	/* Tests widen the window between reading and publishing, where an
	 * API write can publish a newer revision (test_41_publish_order).
	 */
	if ((delay = getenv("GATEHOUSED_TEST_RELOAD_DELAY_MS")) != NULL)
		(void)usleep((useconds_t)strtoul(delay, NULL, 10) * 1000u);
	(void)publish_cfg(c, PUBLISH_TIMEOUT_MS);
	(void)notify_ready("serving (configuration read again)");
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	main_stopping = 1;
	(void)notify_stopping();
	event_base_loopbreak(base);
}

/* systemd's watchdog (WatchdogSec=), fed from the main loop. */
static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)notify_watchdog();
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct api_opts ao = { 0 };
	struct event_base *base;
	struct event *ev_hup, *ev_term, *ev_int, *ev_wd = NULL;
	struct timeval wd_tv;
	struct cfg *c;
	struct err e;
	char buf[600];

	parse_opts(argc, argv, &o);
	err_clear(&e);
	if (o.backup != NULL || o.restore != NULL) {
		/* A backup holds keys opened; a restore seals them anew. */
		if (kek_load(o.kek, o.restore != NULL, &e) != 0) {
			if (o.restore != NULL)
				fatalx("%s", err_str(&e, buf, sizeof(buf)));
			/* Only sealed keys need it; the backup says so. */
			log_info("no key-encryption key: %s",
			    err_str(&e, buf, sizeof(buf)));
		}
		return api_backup_cli(o.db, o.backup, o.restore, o.pass_file);
	}
	if (o.rotate_kek)
		return rotate_kek(&o);
	signal(SIGPIPE, SIG_IGN);
	(void)notify_init();
	if (evthread_use_pthreads() == -1)
		fatalx("libevent: no pthreads support");
	log_info("gatehoused %s starting (database %s, %u workers)",
	    PACKAGE_VERSION, o.db, o.workers);

	err_clear(&e);
	ensure_db_dir(o.db);
	if ((main_store = store_open(o.db, STORE_F_CREATE, &e)) == NULL)
		fatalx("database %s: %s", o.db, err_str(&e, buf, sizeof(buf)));
	if (store_migrate(main_store, &e) == -1)
		fatalx("database %s: %s", o.db, err_str(&e, buf, sizeof(buf)));
	/* Before the privilege drop: the KEK file is root's. */
	if (kek_load(o.kek, true, &e) != 0 || kek_seal_all(main_store, &e) < 0)
		fatalx("private keys: %s", err_str(&e, buf, sizeof(buf)));
	if (balance_secret_load(main_store, &e) != 0)
		fatalx("sticky cookie secret: %s",
		    err_str(&e, buf, sizeof(buf)));
	if (compress_settings_load(main_store, &e) != 0)
		fatalx("compression settings: %s",
		    err_str(&e, buf, sizeof(buf)));
	if (o.user != NULL) {
		if (privdrop(o.user, o.db, &e) == -1)
			fatalx("privileges: %s", err_str(&e, buf, sizeof(buf)));
		log_info(
		    "running as user %s, keeping only CAP_NET_BIND_SERVICE",
		    o.user);
	}
	if ((c = load_cfg(main_store, &e)) == NULL)
		fatalx("config invalid: %s", err_str(&e, buf, sizeof(buf)));
	if (access_log_open(o.access_log) == -1)
		fatal("access log %s", o.access_log);

	workers_init(o.workers);
	workers_start();
	health_start();
	if (publish_cfg(c, PUBLISH_TIMEOUT_MS) == -1)
		fatalx("workers did not take the first configuration");

	if (strcmp(o.admin_listen, "off") != 0) {
		ao.listen = o.admin_listen;
		ao.db_path = o.db;
		ao.cert_file = o.admin_cert;
		ao.key_file = o.admin_key;
		ao.webui_dir = o.webui_dir;
		ao.config_body_max = (size_t)o.config_max_mb << 20;
		ao.conns = o.admin_conns;
		if (api_start(&ao, &e) == -1)
			fatalx("admin API: %s", err_str(&e, buf, sizeof(buf)));
		acme_start(); /* works through the API's store */
	}

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ev_hup = evsignal_new(base, SIGHUP, on_reload, NULL);
	ev_term = evsignal_new(base, SIGTERM, on_stop, base);
	ev_int = evsignal_new(base, SIGINT, on_stop, base);
	if (ev_hup == NULL || ev_term == NULL || ev_int == NULL ||
	    event_add(ev_hup, NULL) == -1 || event_add(ev_term, NULL) == -1 ||
	    event_add(ev_int, NULL) == -1)
		fatalx("cannot watch signals");
	if (history_timer_start(base) == -1)
		fatalx("history: out of memory");
	if (notify_watchdog_usec() > 0) {
		wd_tv.tv_sec = (time_t)(notify_watchdog_usec() / 2 / 1000000);
		wd_tv.tv_usec =
		    (suseconds_t)(notify_watchdog_usec() / 2 % 1000000);
		ev_wd = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
		if (ev_wd == NULL || event_add(ev_wd, &wd_tv) == -1)
			fatalx("cannot start the watchdog timer");
	}
	log_info("gatehoused ready");
	(void)notify_sendf("READY=1\nSTATUS=serving, admin API on %s",
	    o.admin_listen);
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);

	acme_stop();
	api_stop();
	history_timer_stop(); /* the API read it */
	health_stop();
	workers_shutdown(o.shutdown_ms);
	access_log_close();
	event_free(ev_hup);
	event_free(ev_term);
	event_free(ev_int);
	if (ev_wd != NULL)
		event_free(ev_wd);
	event_base_free(base);
	store_close(main_store);
	log_info("gatehoused stopped");
	notify_close();
	return 0;
}
