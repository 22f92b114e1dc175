/*
 * publish.h: handing a new snapshot to the workers (worker.c implements it).
 *
 * publish_cfg() is the only way a snapshot reaches traffic, for boot,
 * SIGHUP and the admin API alike. It stores the snapshot as the newest,
 * pokes every worker's handoff event and waits until each worker has
 * swapped its own pointer (and opened any new listener), so the caller can
 * answer "revision N is live". Publications are serialized and ordered
 * by the revision each snapshot was compiled from (cfg->revision): a
 * snapshot of an older revision than the published one is dropped (its
 * changes are in the newer one), whichever thread compiled it.
 */
#ifndef GH_PUBLISH_H
#define GH_PUBLISH_H

#include <stdint.h>

struct cfg;

/* Takes over the caller's reference to <c>. Returns the generation number
 * given to it (1, 2, ...) or, when <c> is older than the published
 * revision and dropped, the live generation; -1 when not every worker
 * took it within <timeout_ms> (it still becomes live when they do).
 * Thread: any thread but a worker's.
 */
int64_t publish_cfg(struct cfg *c, unsigned timeout_ms);

/* A new reference to the newest published snapshot (NULL before boot).
 * The caller must cfg_unref() it. Thread: any.
 */
struct cfg *publish_current(void);

/* Generation of the newest published snapshot (0 before boot). */
int64_t publish_generation(void);

#endif
