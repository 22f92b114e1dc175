"""An https listener without a usable certificate is refused: creating one
without default_certificate, or dropping the certificate of one that has
it, or a whole configuration with such a listener, is a 422 naming
default_certificate (listeners[i].default_certificate in a
whole configuration), and nothing changes (issue 14)."""

import pytest

from apiclient import problem_fields, start_api, wait_port


@pytest.fixture
def api(gh):
    return start_api(gh)


def cert_fields(r):
    assert r.status_code == 422, r.text
    return [f for f, _ in problem_fields(r) if f.endswith("default_certificate")]


def test_https_without_certificate_refused(api, gh):
    rev = api.get("/revisions").json()[0]["revision"] if api.get("/revisions").json() else 0
    r = api.post("/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                "protocol": "https"})
    assert cert_fields(r) == ["default_certificate"], r.text
    assert "https" in r.text
    assert api.get("/listeners").json() == []
    revs = api.get("/revisions").json()
    assert (revs[0]["revision"] if revs else 0) == rev, "no revision recorded"
    # every problem in one answer: the certificate and a bad port together
    r = api.post("/listeners", {"name": "tls", "address": "127.0.0.1", "port": 70000,
                                "protocol": "https"})
    assert r.status_code == 422
    fields = [f for f, _ in problem_fields(r)]
    assert "port" in fields and "default_certificate" in fields, fields


def test_dropping_the_certificate_refused(api, gh):
    api.ok("POST", "/certificates/self-signed", {"name": "front", "names": ["f.test"]},
           status=201)
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "front"},
           status=201)
    port = wait_port(api, gh, "tls")
    assert port > 0
    r = api.patch("/listeners/tls", {"default_certificate": None})
    assert cert_fields(r) == ["default_certificate"], r.text
    assert api.get("/listeners/tls").json()["default_certificate"] == "front"
    # an http listener turned https must bring its certificate along
    api.ok("POST", "/listeners", {"name": "web", "address": "127.0.0.1", "port": 0},
           status=201)
    r = api.patch("/listeners/web", {"protocol": "https"})
    assert cert_fields(r) == ["default_certificate"], r.text
    api.ok("PATCH", "/listeners/web", {"protocol": "https", "default_certificate": "front"})


def test_whole_config_refused(api, gh):
    doc = api.get("/config").json()
    doc["listeners"] = [{"name": "a", "address": "127.0.0.1", "port": 0, "protocol": "https"}]
    r = api.post("/config/validate", doc)
    assert cert_fields(r) == ["listeners[0].default_certificate"], r.text
    r = api.put("/config", doc)
    assert cert_fields(r) == ["listeners[0].default_certificate"], r.text
    assert api.get("/listeners").json() == []
