"""Sessions, tokens and passwords that do not outlive what granted them
(issue 16): a password change ends the user's other sessions; changing
your own password needs the current one; a token is never worth more than
its owner and dies with them; the password policy; login throttling by
account and address, visible and clearable; the first-start password file
goes once that password is changed."""

import http.client
import json
import os

import pytest

from conftest import wait_until
from apiclient import admin_password, login, problem_fields, start_api


@pytest.fixture
def api(gh):
    return start_api(gh)


def login_from(api, source, user, password):
    """POST /session from local address <source>; (status, headers, body)."""
    host, port = api.base.rsplit("/", 1)[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=20, source_address=(source, 0))
    try:
        c.request("POST", "/api/v1/session", json.dumps({"username": user, "password": password}),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def test_own_password_change_needs_current_and_ends_other_sessions(gh, api):
    api.ok("POST", "/users", {"name": "alice", "password": "alice-pass-one", "role": "admin"})
    s1, _ = login(api.base, "alice", "alice-pass-one")
    s2, _ = login(api.base, "alice", "alice-pass-one")
    r = s1.patch("/users/alice", {"password": "alice-pass-two"})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "current_password"
    r = s1.patch("/users/alice", {"password": "alice-pass-two", "current_password": "nope-nope-nope"})
    assert r.status_code == 403 and problem_fields(r)[0][0] == "current_password"
    assert s2.get("/session").status_code == 200  # nothing changed yet
    r = s1.patch("/users/alice", {"password": "alice-pass-two", "current_password": "alice-pass-one"})
    assert r.status_code == 200, r.text
    # The session that changed it goes on; the other one is over.
    assert s1.get("/session").status_code == 200
    assert s2.get("/session").status_code == 401
    login(api.base, "alice", "alice-pass-two")
    # A token acting for its own owner needs the current password too.
    tok = s1.post("/tokens", {"name": "alice-ci", "role": "admin"}).json()["token"]
    r = api.with_token(tok).patch("/users/alice", {"password": "alice-pass-three"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "current_password"


def test_admin_changing_a_password_ends_all_its_sessions(gh, api):
    api.ok("POST", "/users", {"name": "bob", "password": "bob-pass-one1", "role": "viewer"})
    s1, _ = login(api.base, "bob", "bob-pass-one1")
    s2, _ = login(api.base, "bob", "bob-pass-one1")
    api.ok("PATCH", "/users/bob", {"password": "bob-pass-two2"})
    assert s1.get("/session").status_code == 401
    assert s2.get("/session").status_code == 401


def test_token_is_never_worth_more_than_its_owner(gh, api, origin):
    api.ok("POST", "/users", {"name": "carol", "password": "carol-pass-one", "role": "admin"})
    carol, _ = login(api.base, "carol", "carol-pass-one")
    r = carol.post("/tokens", {"name": "carol-ci", "role": "admin"})
    assert r.status_code == 201 and r.json()["owner"] == "carol"
    tok = api.with_token(r.json()["token"])
    body = {"name": "o1", "servers": [{"address": "127.0.0.1", "port": origin.port}]}
    assert tok.post("/origins", body).status_code == 201
    listed = api.get("/tokens")
    assert [t["owner"] for t in listed.json() if t["name"] == "carol-ci"] == ["carol"], listed.text
    # Demoted: the admin token reads but no longer writes.
    api.ok("PATCH", "/users/carol", {"role": "viewer"})
    assert tok.get("/config").status_code == 200
    body["name"] = "o2"
    r = tok.post("/origins", body)
    assert r.status_code == 403, r.text
    # Promoted again, it writes again (the lower of the two roles).
    api.ok("PATCH", "/users/carol", {"role": "admin"})
    assert tok.post("/origins", body).status_code == 201
    # A token made by that token belongs to carol too.
    r = tok.post("/tokens", {"name": "carol-sub", "role": "admin"})
    assert r.status_code == 201 and r.json()["owner"] == "carol"
    sub = api.with_token(r.json()["token"])
    # Deleted: both tokens die with her.
    assert api.delete("/users/carol").status_code == 204
    assert tok.get("/config").status_code == 401
    assert sub.get("/config").status_code == 401
    assert [t["name"] for t in api.get("/tokens").json() if t["name"].startswith("carol")] == []


BAD_PASSWORDS = [
    ("        ", "at least 12"),
    ("short-pw", "at least 12"),
    ("            ", "different characters"),
    ("aaaaaaaaaaaaaaaa", "different characters"),
    ("abababababab", "different characters"),
    ("123456789012", "digits only"),
    ("Password1234", "common"),
    ("P@ssw0rd2024!", "common"),
    ("qwertyuiopas", "common"),
    ("abcdefghijklmn", "common"),
    ("adminadminadmin", "common"),
    ("dave-the-user", "user name"),
    ("resu-eht-evad", "user name"),
    ("x" * 1025, "at most 1024"),
]


@pytest.mark.parametrize("pw,why", BAD_PASSWORDS, ids=[w + ":" + p[:16] for p, w in BAD_PASSWORDS])
def test_password_policy_refuses(gh, api, pw, why):
    r = api.post("/users", {"name": "dave-the-user", "password": pw})
    assert r.status_code == 422, (pw, r.text)
    f = problem_fields(r)
    assert f[0][0] == "password" and why in f[0][1], f


def test_password_policy_accepts(gh, api):
    for i, pw in enumerate(["correct-horse-battery-9", "red fox run", "Tr0ub4dor&3xyz",
                            "8#4%2&9*1(3)"]):
        r = api.post("/users", {"name": "u%d" % i, "password": pw})
        assert r.status_code == 201, (pw, r.text)
        login(api.base, "u%d" % i, pw)
    # Changing an existing password follows the same rules.
    r = api.patch("/users/u0", {"password": "password"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "password"


def test_throttle_by_account_and_address(gh, api):
    api.ok("POST", "/users", {"name": "erin", "password": "erin-pass-one1", "role": "viewer"})
    pw = admin_password(gh)
    for _ in range(5):
        st, _, _ = login_from(api, "127.0.0.2", "admin", "wrong-password")
        assert st == 401
    st, h, _ = login_from(api, "127.0.0.2", "admin", pw)
    assert st == 429 and int(h["Retry-After"]) > 0
    # Someone else behind that address, and admin from elsewhere, still get in.
    assert login_from(api, "127.0.0.2", "erin", "erin-pass-one1")[0] == 200
    assert login_from(api, "127.0.0.3", "admin", pw)[0] == 200
    # An administrator sees the entry ...
    rows = api.get("/login-throttles").json()
    pair = [t for t in rows if t["account"] == "admin" and t["address"] == "127.0.0.2"]
    assert len(pair) == 1 and pair[0]["failures"] == 5 and pair[0]["retry_after"] > 0
    assert any(t["account"] is None and t["address"] == "127.0.0.2" for t in rows)
    # ... a viewer may not clear it ...
    viewer = api.with_token(api.post("/tokens", {"name": "ro", "role": "viewer"}).json()["token"])
    assert viewer.delete("/login-throttles").status_code == 403
    # ... an admin may.
    r = api.req("DELETE", "/login-throttles?account=admin&address=127.0.0.2")
    assert r.status_code == 200 and r.json()["cleared"] == 1
    assert login_from(api, "127.0.0.2", "admin", pw)[0] == 200


def test_throttle_backs_off_exponentially(gh, api):
    def wait():
        rows = [t for t in api.get("/login-throttles").json()
                if t["account"] == "admin" and t["address"] == "127.0.0.4"]
        return rows[0]["retry_after"] if rows else None

    for i in range(5):
        assert login_from(api, "127.0.0.4", "admin", "wrong-password")[0] == 401
        assert wait() == (0 if i < 4 else wait())
    assert 13 <= wait() <= 15
    # Refused attempts while waiting do not count.
    assert login_from(api, "127.0.0.4", "admin", "wrong-password")[0] == 429
    assert 13 <= wait() <= 15
    wait_until(lambda: wait() == 0, 20, "the first wait to end")
    # The next failure doubles the wait.
    assert login_from(api, "127.0.0.4", "admin", "wrong-password")[0] == 401
    assert 28 <= wait() <= 30


def test_first_start_password_file_goes_once_changed(gh, api):
    path = os.path.join(gh.dir, "admin-password")
    pw = admin_password(gh)
    sess, _ = login(api.base, "admin", pw)
    assert sess.get("/session").json()["must_change_password"] is True
    # Someone else's password change leaves it.
    api.ok("POST", "/users", {"name": "frank", "password": "frank-pass-one"})
    api.ok("PATCH", "/users/frank", {"password": "frank-pass-two"})
    assert os.path.exists(path)
    r = sess.patch("/users/admin", {"password": "a-new-admin-pass", "current_password": pw})
    assert r.status_code == 200, r.text
    assert not os.path.exists(path)
    assert sess.get("/session").json()["must_change_password"] is False
    gh.wait_for(r"first-start password changed, removed .*admin-password")
    login(api.base, "admin", "a-new-admin-pass")
    # A restart does not bring it back.
    gh.stop()
    gh.proc = None
    gh.start(args=["--admin-listen", "127.0.0.1:0"])
    assert not os.path.exists(path)
