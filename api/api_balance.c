/*
 * api_balance.c: every server's live state for GET /stats ("balance")
 * and GET /metrics: its configured state, requests in flight, latency
 * EWMA, requests sent, passive-health ejections and its active health
 * check, read lock-free from server_live.c and health.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "cfg.h"
#include "health.h"
#include "json.h"
#include "server_live.h"

static const char *const live_states[] = { "active", "drain", "disabled" };
static const char *const live_health[] = { "unchecked", "up", "down" };

static void
live_get(const struct cfg_origin *o, const struct cfg_server *sv,
    struct server_live_info *li, struct health_info *hi)
{
	if (!server_live_get(sv->id, li))
		memset(li, 0, sizeof(*li));
	if (!o->health.enabled || !health_get(sv->id, hi))
		memset(hi, 0, sizeof(*hi));
}

struct json *
balance_live_json(const struct cfg *c)
{
	struct json *arr = json_new_arr(), *o;
	struct server_live_info li;
	struct health_info hi;
	size_t i, j;

	for (i = 0; c != NULL && i < c->norigins; i++)
		for (j = 0; j < c->origins[i].nservers; j++) {
			const struct cfg_origin * or = &c->origins[i];
			const struct cfg_server *sv = & or->servers[j];

			live_get(or, sv, &li, &hi);
			o = json_new_obj();
			json_set(o, "id", json_new_int(sv->id));
			json_set(o, "origin", json_new_str(or->name));
			json_set(o, "server", json_new_str(sv->label));
			json_set(o, "state",
			    json_new_str(live_states[sv->state]));
			json_set(o, "weight", json_new_int(sv->weight));
			json_set(o, "in_flight", json_new_int(li.inflight));
			json_set(o, "latency_ewma_us",
			    json_new_int((int64_t)li.ewma_us));
			json_set(o, "requests",
			    json_new_int((int64_t)li.picks));
			json_set(o, "ejections",
			    json_new_int((int64_t)li.ejections));
			json_set(o, "ejected_ms",
			    json_new_int((int64_t)li.ejected_ms));
			json_set(o, "health",
			    json_new_str(live_health[hi.state]));
			json_append(arr, o);
		}
	return arr;
}

char *
balance_live_metrics(const struct cfg *c)
{
	static const char *const head =
	    "# HELP gatehouse_server_in_flight requests in flight on the server (all workers)\n"
	    "# TYPE gatehouse_server_in_flight gauge\n"
	    "# HELP gatehouse_server_latency_ewma_seconds latency EWMA, request sent to response head\n"
	    "# TYPE gatehouse_server_latency_ewma_seconds gauge\n"
	    "# HELP gatehouse_server_ejections_total passive-health ejections\n"
	    "# TYPE gatehouse_server_ejections_total counter\n"
	    "# HELP gatehouse_server_ejected 1 while ejected by passive health\n"
	    "# TYPE gatehouse_server_ejected gauge\n"
	    "# HELP gatehouse_server_admin_state 1 for the server's configured state\n"
	    "# TYPE gatehouse_server_admin_state gauge\n";
	struct server_live_info li;
	struct health_info hi;
	size_t i, j, len = 0, cap = 0;
	char *out = NULL, *np, line[640], lbl[300];
	int n, k;

	for (i = 0; c != NULL && i < c->norigins; i++)
		for (j = 0; j < c->origins[i].nservers; j++) {
			const struct cfg_origin * or = &c->origins[i];
			const struct cfg_server *sv = & or->servers[j];

			live_get(or, sv, &li, &hi);
			snprintf(lbl, sizeof(lbl),
			    "server_id=\"%" PRId64
			    "\",server=\"%s\",origin=\"%s\"",
			    sv->id, sv->label, or->name);
			for (k = 0; k < 5; k++) {
				if (k == 0)
					n = snprintf(line, sizeof(line),
					    "gatehouse_server_in_flight{%s} %u\n"
					    "gatehouse_server_latency_ewma_seconds{%s} %.6f\n",
					    lbl, li.inflight, lbl,
					    (double)li.ewma_us / 1e6);
				else if (k == 1)
					n = snprintf(line, sizeof(line),
					    "gatehouse_server_ejections_total{%s} %" PRIu64
					    "\ngatehouse_server_ejected{%s} %d\n",
					    lbl, li.ejections, lbl,
					    li.ejected_ms > 0);
				else
					n = snprintf(line, sizeof(line),
					    "gatehouse_server_admin_state{%s,state=\"%s\"} %d\n",
					    lbl, live_states[k - 2],
					    (int)sv->state == k - 2);
				if (n < 0 || (size_t)n >= sizeof(line))
					continue;
				if (len + (size_t)n + strlen(head) + 1 > cap) {
					cap = (cap + (size_t)n + strlen(head) +
					          1) *
					    2;
					if ((np = realloc(out, cap)) == NULL) {
						free(out);
						return NULL;
					}
					if (out == NULL) {
						memcpy(np, head, strlen(head));
						len = strlen(head);
					}
					out = np;
				}
				memcpy(out + len, line, (size_t)n);
				len += (size_t)n;
			}
		}
	if (out != NULL)
		out[len] = '\0';
	return out;
}
