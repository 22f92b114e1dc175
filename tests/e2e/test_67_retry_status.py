"""Retries on a status the origin answered itself (issue 13).

A route's retries "on" lists statuses ("503", "502", "500", ...): a GET
answered 503 by one server of three is sent again to another one, and
the 503 (head and body) never reaches the client; a POST is not retried;
a status not listed is passed on; with no server left untried the answer
is passed on; under a total outage the budget caps the tries. Retries
are counted by reason in /stats and /metrics.
"""

import http.client
import http.server
import threading

from apiclient import problem_fields, start_api, wait_port


class Origin:
    """Answers every request with <code>, a body of <size> bytes (chunked
    when <chunked>), and X-Backend: <name>; counts requests by method."""

    def __init__(self, name, code=200, size=0, chunked=False):
        self.name, self.code, self.size, self.chunked = name, code, size, chunked
        self.lock = threading.Lock()
        self.hits = {}
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                with outer.lock:
                    outer.hits[self.command] = outer.hits.get(self.command, 0) + 1
                body = (b"from %s " % outer.name.encode()) * (outer.size // 10 + 1)
                body = body[:max(outer.size, 12)]
                self.send_response(outer.code)
                self.send_header("X-Backend", outer.name)
                if outer.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(body), 4096):
                        part = body[i:i + 4096]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = answer

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def count(self, method=None):
        with self.lock:
            return sum(self.hits.values()) if method is None else self.hits.get(method, 0)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def route_setup(gh, servers, retries):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": s.port} for s in servers]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["s.test"]}, "retries": retries})
    return api, wait_port(api, gh, "l")


def send(conn, method="GET", body=None):
    conn.request(method, "/", body=body, headers={"Host": "s.test"})
    r = conn.getresponse()
    data = r.read()
    return r.status, r.getheader("X-Backend"), data


def stat(api, name):
    return api.get("/stats").json()["global"][name]


def test_get_answered_503_is_retried_on_another_server(gh):
    # the failing server's answer has a large body, dropped with it
    servers = [Origin("a"), Origin("b"), Origin("bad", 503, 200000)]
    try:
        api, port = route_setup(gh, servers, {"attempts": 2, "on": ["503"],
                                              "budget_percent": 50})
        assert api.get("/routes/r").json()["retries"]["on"] == ["503"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        got = [send(conn) for _ in range(150)]
        conn.close()
        errors = [(s, b) for s, b, _ in got if s != 200]
        bad = servers[2].count("GET")
        print("503 on one of three: 150 GETs, %d answered 503 by it, %d client errors"
              % (bad, len(errors)))
        assert errors == []
        assert bad >= 30, bad  # it was asked, and its answers dropped
        assert {b for _, b, _ in got} == {"a", "b"}
        assert all(d.startswith(b"from %s" % b.encode()) for _, b, d in got)
        assert stat(api, "retries_status") == bad
        assert stat(api, "retries_budget_spent") == 0
        assert "gatehouse_retries_status_total %d" % bad in api.get("/metrics").text
    finally:
        for s in servers:
            s.close()


def test_chunked_503_dropped_and_post_not_retried(gh):
    servers = [Origin("a"), Origin("bad", 503, 50000, chunked=True)]
    try:
        api, port = route_setup(gh, servers, {"attempts": 1, "on": ["502", "503"],
                                        "budget_percent": 100})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        got = [send(conn) for _ in range(40)]
        assert {(s, b) for s, b, _ in got} == {(200, "a")}, got
        assert servers[1].count("GET") >= 10
        # POST is not idempotent: the server's 503 is passed on, once
        retried = stat(api, "retries_status")
        got = [send(conn, "POST", b"p" * 100) for _ in range(20)]
        bad = [g for g in got if g[0] != 200]
        assert bad and all(s == 503 and b == "bad" and d.startswith(b"from bad")
                           for s, b, d in bad), got
        assert servers[1].count("POST") == len(bad)
        assert stat(api, "retries_status") == retried
        # a small PUT is idempotent and held whole: retried
        got = [send(conn, "PUT", b"u" * 100) for _ in range(10)]
        assert {(s, b) for s, b, _ in got} == {(200, "a")}, got
        assert servers[1].count("PUT") >= 2
        conn.close()
    finally:
        for s in servers:
            s.close()


def test_unlisted_status_and_no_other_server_pass_the_answer_on(gh):
    servers = [Origin("a"), Origin("bad", 503)]
    try:
        # "on" without 503: the server's 503 reaches the client
        api, port = route_setup(gh, servers, {"attempts": 2, "on": ["502", "reset"]})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        got = [send(conn)[:2] for _ in range(10)]
        assert (503, "bad") in got and (200, "a") in got, got
        # listed, but the only server: passed on, never resent to it
        api.ok("PATCH", "/routes/r", {"retries": {"attempts": 3, "on": ["503"]}})
        api.ok("PATCH", "/origins/o", {"servers": [
            {"address": "127.0.0.1", "port": servers[1].port}]})
        before = servers[1].count()
        got = [send(conn)[:2] for _ in range(10)]
        assert got == [(503, "bad")] * 10, got
        assert servers[1].count() - before == 10
        assert stat(api, "retries_status") == 0
        conn.close()
        # unknown statuses are refused with their paths
        r = api.patch("/routes/r", {"retries": {"attempts": 1, "on": ["503", "418", 503]}})
        assert r.status_code == 422, r.text
        assert sorted(f for f, _ in problem_fields(r)) == [
            "retries.on[1]", "retries.on[2]"], r.text
    finally:
        for s in servers:
            s.close()


def test_budget_holds_when_every_server_answers_503(gh):
    servers = [Origin(n, 503) for n in ("a", "b", "c")]
    try:
        api, port = route_setup(gh, servers, {"attempts": 3, "on": ["503"],
                                        "budget_percent": 20})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        got = [send(conn)[:2] for _ in range(100)]
        conn.close()
        # every answer is a server's own 503, passed on when no try is left
        assert {s for s, _ in got} == {503} and None not in {b for _, b in got}
        tries = sum(s.count() for s in servers)
        retried = stat(api, "retries_status")
        print("503 outage: 100 requests, %d tries (no budget: 300), %d retries, "
              "%d refused by the budget" % (tries, retried,
                                           stat(api, "retries_budget_spent")))
        # 20% of 100 and the reserve of 10
        assert 100 < tries <= 130, tries
        assert retried == tries - 100
        assert stat(api, "retries_budget_spent") > 0
        m = api.get("/metrics").text
        assert "gatehouse_retries_budget_spent_total" in m
        assert "gatehouse_retries_reset_total 0" in m
    finally:
        for s in servers:
            s.close()
