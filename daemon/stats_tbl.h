/*
 * stats_tbl.h: every global counter, as an X-macro table. It feeds the enum,
 * the names in /api/v1/stats and /metrics, and their help text. Every
 * failure a client, an origin or an operator can cause has a row here.
 */
/* clang-format off */
STAT(CONN_ACCEPTED,        "conn_accepted",        "client connections accepted")
STAT(CONN_CLOSED,          "conn_closed",          "client connections closed")
STAT(CONN_ACCEPT_FAILED,   "conn_accept_failed",   "accept(2) failures")
STAT(REQ_TOTAL,            "requests",             "requests parsed and routed or refused")
STAT(REQ_BAD,              "req_bad",              "requests refused as malformed (400)")
STAT(REQ_URI_TOO_LONG,     "req_uri_too_long",     "requests refused: request line too long (414)")
STAT(REQ_HEADERS_TOO_BIG,  "req_headers_too_big",  "requests refused: headers too large (431)")
STAT(REQ_BODY_TOO_BIG,     "req_body_too_big",     "requests refused: body over the route limit (413)")
STAT(REQ_NO_ROUTE,         "req_no_route",         "requests with no matching route (404)")
STAT(REQ_NOT_IMPL,         "req_not_implemented",  "requests refused: method or coding not implemented (501)")
STAT(REQ_HEADER_TIMEOUT,   "req_header_timeout",   "client connections timed out reading a request head (408)")
STAT(REQ_CLIENT_ABORT,     "req_client_abort",     "requests abandoned by the client before the response ended")
STAT(REQ_NO_MEMORY,        "req_no_memory",        "requests failed: out of memory (503)")
STAT(UP_CONNECT_FAILED,    "upstream_connect_failed", "origin connections refused or unreachable (502)")
STAT(UP_CONNECT_TIMEOUT,   "upstream_connect_timeout", "origin connects timed out (504)")
STAT(UP_RESPONSE_TIMEOUT,  "upstream_response_timeout", "origin responses timed out (504)")
STAT(UP_BAD_RESPONSE,      "upstream_bad_response", "origin responses refused as malformed (502)")
STAT(UP_PREMATURE_CLOSE,   "upstream_premature_close", "origins that closed mid-response")
STAT(UP_CONN_OPENED,       "upstream_conn_opened", "origin connections opened")
STAT(UP_CONN_REUSED,       "upstream_conn_reused", "requests sent on a pooled origin connection")
STAT(UPGRADES,             "upgrades",             "connections turned into tunnels (101)")
STAT(CFG_SWAPS,            "cfg_swaps",            "configuration snapshots taken by workers")
STAT(CFG_REJECTED,         "cfg_rejected",         "configuration changes refused at compile")
STAT(LISTENER_BIND_FAILED, "listener_bind_failed", "listener binds refused by the kernel")
/* clang-format on */
