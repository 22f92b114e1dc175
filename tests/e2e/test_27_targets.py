"""Request-targets: one parser (daemon/target.c) for routing and forwarding.
Absolute-form targets of every shape route and forward the same way as the
origin-form they stand for; userinfo, other schemes and fragments get 400."""

import json

import pytest

from backends import parse_responses, raw_exchange


def exchange(port, target, host=b"app.test", method=b"GET"):
    head = method + b" " + target + b" HTTP/1.1\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    data, _ = raw_exchange(port, head + b"Connection: close\r\n\r\n")
    return parse_responses(data)[0]


def seen(r):
    """The origin's view: (request-target, Host values)."""
    assert r.status == 200, (r.status, r.body[:200])
    doc = json.loads(r.body)
    return doc["path"], [v for k, v in doc["headers"] if k.lower() == "host"]


@pytest.fixture
def two_routes(gh, origin_factory):
    """Route "a" (host app.test, prefix /) and route "b" (host other.test,
    prefix /b) to two origins; answers (port, origin a, origin b)."""
    oa, ob = origin_factory("oa"), origin_factory("ob")
    gh.add_listener("l")
    gh.add_origin("oa", [(oa.host, oa.port)])
    gh.add_origin("ob", [(ob.host, ob.port)])
    gh.add_route("a", "l", "oa", hosts=("app.test",))
    gh.add_route("b", "l", "ob", hosts=("other.test",), path_prefix="/b")
    gh.start()
    return gh.ports["l"]


# (absolute-form target, Host header sent, origin-form it stands for, Host
# the origin must see)
SHAPES = [
    (b"http://app.test/p?x=1", b"app.test", "/p?x=1", "app.test"),
    (b"http://app.test", b"app.test", "/", "app.test"),
    (b"http://app.test/", b"app.test", "/", "app.test"),
    (b"http://app.test?q=1", b"app.test", "/?q=1", "app.test"),
    (b"http://app.test/?q=1", b"app.test", "/?q=1", "app.test"),
    (b"HTTP://App.Test/p", b"app.test", "/p", "App.Test"),
    (b"https://app.test/p", b"app.test", "/p", "app.test"),
    (b"http://app.test:8080/p", b"app.test", "/p", "app.test:8080"),
    (b"http://app.test:/p", b"app.test", "/p", "app.test:"),
    # the target's authority wins over a Host header that disagrees
    (b"http://app.test/p", b"other.test", "/p", "app.test"),
    (b"http://app.test/p?q?r/s", b"app.test", "/p?q?r/s", "app.test"),
]


@pytest.mark.parametrize("target,host,origin_form,want_host", SHAPES)
def test_absolute_form_routes_and_forwards_as_origin_form(two_routes,
                                                          target, host,
                                                          origin_form,
                                                          want_host):
    port = two_routes
    path, hosts = seen(exchange(port, target, host=host))
    assert path == origin_form
    assert hosts == [want_host]
    r = exchange(port, origin_form.encode(), host=want_host.encode())
    assert seen(r) == (path, hosts)
    assert json.loads(r.body)["backend"] == "oa"


def test_absolute_form_authority_picks_the_route(two_routes):
    port = two_routes
    r = exchange(port, b"http://other.test/b/x?y", host=b"app.test")
    assert json.loads(r.body)["backend"] == "ob"
    assert seen(r) == ("/b/x?y", ["other.test"])
    # "?" right after the authority: the path is "/", which route b's
    # prefix /b does not take, on routing and forwarding alike
    r = exchange(port, b"http://other.test?b", host=b"other.test")
    assert r.status == 404
    r = exchange(port, b"http://app.test?b", host=b"other.test")
    assert json.loads(r.body)["backend"] == "oa"
    assert seen(r) == ("/?b", ["app.test"])


@pytest.mark.parametrize("target", [
    b"http://user@app.test/",
    b"http://user:pw@app.test/p",
    b"https://app.test@other.test/",
    b"ftp://app.test/",
    b"ws://app.test/",
    b"file:///etc/passwd",
    b"/p#frag",
    b"http://app.test/p#frag",
    b"http:///p",
    b"http://app.test:99999/",
    b"app.test/p",
    b"*",
])
def test_refused_targets(two_routes, target):
    r = exchange(two_routes, target)
    assert r.status == 400, (target, r.status)


def test_http11_without_host_is_refused_in_every_form(two_routes):
    # RFC 9112 3.2: Host is required in HTTP/1.1, absolute-form or not
    assert exchange(two_routes, b"http://app.test/p", host=None).status == 400
    assert exchange(two_routes, b"/p", host=None).status == 400


def test_options_asterisk_is_not_refused(two_routes):
    r = exchange(two_routes, b"*", method=b"OPTIONS")
    assert r.status != 400


def test_redirect_keeps_path_and_query(gh, origin):
    port = gh.simple(origin, route_cols={"redirect_https": 1})
    for target in (b"/p?q=1", b"http://app.test:8080/p?q=1"):
        r = exchange(port, target)
        assert r.status == 308
        assert r.header("location") == "https://app.test/p?q=1", target
    r = exchange(port, b"http://app.test?q=1")
    assert r.header("location") == "https://app.test/?q=1"
