/*
 * api_static.c: the security headers of the web UI's static files.
 *
 * The web UI is plain files (webui/): one HTML page, ES modules and one
 * style sheet, all from the admin listener itself. The policy below lets
 * a page load exactly that and talk only to this origin: no inline
 * script or style, no other host, no framing, no plugin, no referrer.
 * Files are served with Cache-Control: no-cache (by sys_static), so an
 * upgraded daemon never runs a browser on stale modules.
 */
#include "api_int.h"

#define STATIC_CSP                                                    \
	"default-src 'none'; script-src 'self'; style-src 'self'; "   \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; " \
	"manifest-src 'self'; base-uri 'none'; form-action 'self'; "  \
	"frame-ancestors 'none'"

void
static_headers(struct api_req *r)
{
	api_add_header(r, "Content-Security-Policy", STATIC_CSP);
	api_add_header(r, "X-Frame-Options", "DENY");
	api_add_header(r, "Referrer-Policy", "no-referrer");
	api_add_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}
