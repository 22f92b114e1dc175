/*
 * privdrop.c: root -> service user, keeping CAP_NET_BIND_SERVICE (also
 * the only capability left in the bounding set).
 *
 * Capabilities are per thread on Linux, so this runs in main before the
 * workers and the admin thread exist; they inherit the reduced set.
 */
#include "privdrop.h"

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
give(const char *path, uid_t uid, gid_t gid, mode_t mode, bool must,
    struct err *e)
{
	if (chown(path, uid, gid) == -1 || chmod(path, mode) == -1) {
		if (!must && errno == ENOENT)
			return 0;
		return err_set(e, "", "%s: %s", path, strerror(errno));
	}
	return 0;
}

int
privdrop(const char *user, const char *db_path, struct err *e)
{
	struct passwd *pw;
	cap_t caps;
	cap_value_t keep[] = { CAP_NET_BIND_SERVICE };
	char path[4096], *dir, *copy;
	int r, c;

	if ((pw = getpwnam(user)) == NULL)
		return err_set(e, "", "user %s does not exist", user);
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0;
		return err_set(e, "", "--user %s needs to start as root", user);
	}
	if ((copy = strdup(db_path)) == NULL)
		return err_set(e, "", "out of memory");
	dir = dirname(copy);
	r = give(dir, pw->pw_uid, pw->pw_gid, 0700, true, e);
	free(copy);
	if (r == -1)
		return -1;
	if (give(db_path, pw->pw_uid, pw->pw_gid, 0600, true, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s-wal", db_path);
	if (give(path, pw->pw_uid, pw->pw_gid, 0600, false, e) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s-shm", db_path);
	if (give(path, pw->pw_uid, pw->pw_gid, 0600, false, e) == -1)
		return -1;

	/* The bounding set too (root can, with CAP_SETPCAP): nothing but
	 * CAP_NET_BIND_SERVICE can ever come back, not even through an
	 * exec. The kernel may know more capabilities than our headers.
	 */
	for (c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (c != CAP_NET_BIND_SERVICE &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
			return err_set(e, "", "prctl(PR_CAPBSET_DROP, %d): %s",
			    c, strerror(errno));
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		return err_set(e, "", "prctl(PR_SET_KEEPCAPS): %s",
		    strerror(errno));
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return err_set(e, "", "switching to user %s: %s", user,
		    strerror(errno));
	if ((caps = cap_init()) == NULL)
		return err_set(e, "", "cap_init: %s", strerror(errno));
	if (cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) == -1 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) == -1 ||
	    cap_set_proc(caps) == -1) {
		cap_free(caps);
		return err_set(e, "", "keeping CAP_NET_BIND_SERVICE: %s",
		    strerror(errno));
	}
	cap_free(caps);
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return err_set(e, "", "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
	if (setuid(0) != -1)
		return err_set(e, "", "could regain root after dropping");
	return 0;
}
