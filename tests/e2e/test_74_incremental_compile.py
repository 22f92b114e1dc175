"""Route writes build the next snapshot from the live one (cfg_incr.c)
instead of compiling every row. With GATEHOUSED_COMPILE_VERIFY=1 the daemon
also compiles in full after each one and logs when the two differ; random
route creates, changes (priority, hosts, path, listener, origin), renames
and deletes through the API must never differ, and traffic follows each
change at once."""

import random

from apiclient import start_api, wait_port
from conftest import wait_until
from backends import raw_exchange

ROUTES = 40


def get(port, host, path="/"):
    data, _ = raw_exchange(port, ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                                  % (path, host)).encode())
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    backend = None
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "x-backend":
            backend = v.strip()
    return status, backend


def test_route_writes_equal_a_full_compile(gh, origin_factory):
    backends = [origin_factory("b%d" % i) for i in range(3)]
    gh.extra_env["GATEHOUSED_COMPILE_VERIFY"] = "1"
    api = start_api(gh)
    doc = {"listeners": [{"name": "one", "address": "127.0.0.1", "port": 0},
                         {"name": "two", "address": "127.0.0.1", "port": 0}],
           "origins": [{"name": "b%d" % i, "servers": [{"address": "127.0.0.1", "port": b.port}]}
                       for i, b in enumerate(backends)],
           "routes": [{"name": "r%d" % i, "listener": "one", "origin": "b%d" % (i % 3),
                       "match": {"hosts": ["h%d.example" % i]}} for i in range(ROUTES)]}
    api.ok("PUT", "/config", doc)
    ports = {"one": wait_port(api, gh, "one"), "two": wait_port(api, gh, "two")}
    rng = random.Random(74)
    live = {"r%d" % i: ("one", "b%d" % (i % 3), "h%d.example" % i) for i in range(ROUTES)}
    gone = []
    serial = ROUTES
    for step in range(90):
        op = rng.randrange(10)
        if op < 2 or not live:
            name, host = "r%d" % serial, "h%d.example" % serial
            serial += 1
            lst, org = rng.choice(["one", "two"]), "b%d" % rng.randrange(3)
            api.ok("POST", "/routes", {"name": name, "listener": lst, "origin": org,
                                       "priority": rng.randrange(-3, 4),
                                       "match": {"hosts": [host, "*.w%d.example" % rng.randrange(3)]}})
            live[name] = (lst, org, host)
        elif op < 4:
            name = rng.choice(sorted(live))
            api.ok("DELETE", "/routes/" + name, status=204)
            gone.append(live.pop(name))
        elif op < 5:  # rename: same id, same rows otherwise
            name = rng.choice(sorted(live))
            new = name + "x"
            r = api.ok("GET", "/routes/" + name).json()
            r["name"] = new
            for k in ("id",):
                r.pop(k, None)
            api.ok("PUT", "/routes/" + name, r)
            live[new] = live.pop(name)
        else:
            name = rng.choice(sorted(live))
            lst, org, host = live[name]
            lst, org = rng.choice(["one", "two"]), "b%d" % rng.randrange(3)
            api.ok("PATCH", "/routes/" + name, {
                "listener": lst, "origin": org, "priority": rng.randrange(-3, 4),
                "match": {"hosts": [host], "path_prefix": rng.choice(["/", "/"])}})
            live[name] = (lst, org, host)
        # The route just written answers on its listener, at once.
        if step % 3 == 0:
            for name, (lst, org, host) in rng.sample(sorted(live.items()), min(3, len(live))):
                assert get(ports[lst], host) == (200, org), (step, name)
            for lst, _, host in gone[-2:]:
                assert get(ports[lst], host)[0] == 404, (step, host)
    assert not gh.log_has(r"differs from a full compile|a full compile fails"), gh.log_tail()
    # Every route write took the incremental path (else nothing was verified);
    # the log reader may lag behind the answers on a loaded machine.
    def same():
        with gh.cond:
            return sum("equals a full compile" in line for line in gh.lines)
    wait_until(lambda: same() >= 90, what="90 verified writes: %d" % same())
    assert same() == 90, (same(), gh.log_tail())
