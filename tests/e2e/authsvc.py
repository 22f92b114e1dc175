"""authsvc.py: a small forward auth service for the end-to-end tests, in the
manner of Authelia's /api/verify (plain python3, no PyPI).

It decides by the request it is sent:
  Cookie "session=good"       200, Remote-User: ann, Remote-Groups: admins
  Authorization "Bearer bad"  401 with WWW-Authenticate and a body
  Cookie "session=banned"     403 with a body
  path /slow?ms=M             waits M ms, then as above
  anything else               302 to the login page (Location with the
                              X-Forwarded-* values) and a Set-Cookie
Every request head is recorded (`requests`: dicts of lower-case header
names to values, plus "_path" and "_method"); `connections` counts the
connections accepted. Answers keep the connection open (HTTP/1.1) unless
`close_answers` is set (each answer says Connection: close and the
connection ends); with `drop_reused` set, a request that comes on a
connection already used is read and the connection closed without an
answer (a service whose keep-alive time ran out as the proxy reused it)."""

import http.server
import threading
import time
import urllib.parse


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        self.nreq = 0
        with self.server.svc.lock:
            self.server.svc.connections += 1

    def do_GET(self):
        svc = self.server.svc
        self.nreq += 1
        seen = {k.lower(): v for k, v in self.headers.items()}
        seen["_path"] = self.path
        seen["_method"] = self.command
        seen["_remote_user_count"] = len(self.headers.get_all("Remote-User") or [])
        svc.requests.append(seen)
        if svc.drop_reused and self.nreq > 1:
            self.close_connection = True
            return
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000)
        cookie = seen.get("cookie", "")
        if "session=good" in cookie:
            self.answer(200, [("Remote-User", "ann"), ("Remote-Groups", "admins"),
                              ("X-Other", "not copied")], b"")
        elif seen.get("authorization") == "Bearer bad":
            self.answer(401, [("WWW-Authenticate", 'Bearer realm="gate"'),
                              ("Content-Type", "text/plain")], b"who are you?\n")
        elif "session=banned" in cookie:
            self.answer(403, [("Content-Type", "text/plain")], b"banned\n")
        else:
            rd = "%s://%s%s" % (seen.get("x-forwarded-proto"), seen.get("x-forwarded-host"),
                                seen.get("x-forwarded-uri"))
            self.answer(302, [("Location", "https://login.test/?rd=" +
                               urllib.parse.quote(rd, safe="")),
                              ("Set-Cookie", "flow=abc; Path=/; HttpOnly"),
                              ("Set-Cookie", "csrf=xyz; Path=/")], b"")

    def answer(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.server.svc.close_answers:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class AuthService:
    def __init__(self):
        self.requests = []
        self.connections = 0
        self.close_answers = False
        self.drop_reused = False
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.svc = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
