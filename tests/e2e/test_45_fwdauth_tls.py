"""Forward auth to a service that speaks TLS: the checks borrow the worker's
TLS origin connections, read through sockread's decoder (test_44): a check
is verified against the service's CA and SNI name and lets the request on
with the copied headers; twenty checks share one pooled TLS connection
(one handshake); a denial's body comes back whole; a service that drops a
reused connection (TCP, no close_notify) gets the check again on a new
one, unseen by the client; a service whose certificate does not verify is
a 502, counted."""

import json
import ssl

import pytest

from apiclient import start_api
from authsvc import AuthService
from test_36_tls_origin import pki  # noqa: F401 (a fixture: CA, other CA, leaf)
from test_97_forward_auth import checks, make_route, request, stat
from tlsutil import add_cert


@pytest.fixture
def authsvc(pki):
    """authsvc.py's service behind TLS (the leaf for origin.test)."""
    s = AuthService()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki[2].cert, pki[2].key)
    s.httpd.socket = ctx.wrap_socket(s.httpd.socket, server_side=True)
    yield s
    s.close()


def tls_route(gh, origin, authsvc, pki, ca=0):
    """test_97's route, its auth origin switched to TLS verified against
    pki[<ca>]."""
    add_cert(gh, "auth-ca", pki[ca], kind="ca")
    api = start_api(gh)
    port = make_route(gh, api, origin, authsvc)
    api.ok("PATCH", "/origins/auth", {"tls": {"enabled": True, "ca": "auth-ca",
                                              "sni": "origin.test"}})
    return api, port


def test_allowed_over_tls(gh, origin, authsvc, pki):
    api, port = tls_route(gh, origin, authsvc, pki)
    resp = request(port, headers=[("Cookie", "session=good")])
    assert resp.status == 200, resp
    seen = {k.lower(): v for k, v in json.loads(resp.body)["headers"]}
    assert seen["remote-user"] == "ann"
    assert authsvc.requests[-1]["cookie"] == "session=good"
    assert stat(api, "upstream_tls_handshakes") == 1
    assert stat(api, "fwdauth_allowed") == 1


def test_checks_share_one_tls_connection(gh, origin, authsvc, pki):
    api, port = tls_route(gh, origin, authsvc, pki)
    assert checks(port, 20) == [200] * 20
    assert len(authsvc.requests) == 20
    assert authsvc.connections == 1
    assert stat(api, "upstream_tls_handshakes") == 1
    assert stat(api, "fwdauth_allowed") == 20


def test_denial_body_over_tls(gh, origin, authsvc, pki):
    api, port = tls_route(gh, origin, authsvc, pki)
    before = len(origin.requests)
    resp = request(port, headers=[("Authorization", "Bearer bad")])
    assert resp.status == 401, resp
    assert resp.body == b"who are you?\n"
    assert resp.header("WWW-Authenticate") == 'Bearer realm="gate"'
    assert len(origin.requests) == before


def test_dropped_reused_connection_retried(gh, origin, authsvc, pki):
    authsvc.drop_reused = True
    api, port = tls_route(gh, origin, authsvc, pki)
    assert checks(port, 5) == [200] * 5
    assert authsvc.connections == 5
    assert len(authsvc.requests) == 9  # 4 dropped on a reused connection
    assert stat(api, "fwdauth_errors") == 0
    assert stat(api, "fwdauth_allowed") == 5


def test_unverified_service_is_502(gh, origin, authsvc, pki):
    api, port = tls_route(gh, origin, authsvc, pki, ca=1)
    before = len(origin.requests)
    resp = request(port, headers=[("Cookie", "session=good")])
    assert resp.status == 502, resp
    assert len(origin.requests) == before
    assert authsvc.requests == []
    assert stat(api, "fwdauth_errors") == 1
    assert stat(api, "upstream_tls_verify_failed") == 1
    gh.wait_for(r"\[warn\] origin auth server 127\.0\.0\.1:\d+: TLS certificate "
                r"verification failed")
