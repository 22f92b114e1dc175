"""A TLS scan by a real tool (Debian's sslscan, installed by
scripts/install-deps.sh test) finds no protocol below TLS 1.2, and only
AEAD ciphers with forward secrecy, for RSA and ECDSA certificates."""

import re
import shutil
import subprocess

import pytest

from tlsutil import add_cert, make_leaf

AEAD = re.compile(r"(GCM|CHACHA20|CCM)")
PFS_12 = re.compile(r"^(ECDHE|DHE)-")


def scan(gh, origin, tmp_path, key_type):
    if shutil.which("sslscan") is None:
        pytest.fail("sslscan is not installed: run scripts/install-deps.sh test")
    pair = make_leaf(tmp_path, "scan.test", None, dns=["scan.test"], key_type=key_type)
    cid = add_cert(gh, "scan", pair)
    gh.add_listener("l", protocol="https", default_certificate_id=cid)
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o")
    gh.start()
    p = subprocess.run(["sslscan", "--no-colour", "--sni-name=scan.test",
                        "127.0.0.1:%d" % gh.ports["l"]],
                       capture_output=True, timeout=300)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    return out


def check(out):
    protos = dict(re.findall(r"^(SSLv2|SSLv3|TLSv1\.0|TLSv1\.1|TLSv1\.2|TLSv1\.3)\s+(enabled|disabled)\s*$",
                             out, re.M))
    assert protos == {"SSLv2": "disabled", "SSLv3": "disabled", "TLSv1.0": "disabled",
                      "TLSv1.1": "disabled", "TLSv1.2": "enabled", "TLSv1.3": "enabled"}, out
    ciphers = re.findall(r"^(?:Preferred|Accepted)\s+(TLSv1\.[0-3]|SSLv\d)\s+\d+ bits\s+(\S+)",
                         out, re.M)
    assert ciphers, out
    for proto, name in ciphers:
        assert proto in ("TLSv1.2", "TLSv1.3"), (proto, name)
        assert AEAD.search(name), "not AEAD: " + name
        if proto == "TLSv1.2":  # TLS 1.3 suites always use (EC)DHE
            assert PFS_12.match(name), "no forward secrecy: " + name
    assert "renegotiation not supported" in out or "Secure session renegotiation" in out
    return ciphers


def test_scan_rsa(gh, origin, tmp_path):
    ciphers = check(scan(gh, origin, tmp_path, "rsa"))
    assert ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384") in ciphers


def test_scan_ecdsa(gh, origin, tmp_path):
    ciphers = check(scan(gh, origin, tmp_path, "ecdsa"))
    assert ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384") in ciphers
    assert ("TLSv1.3", "TLS_AES_256_GCM_SHA384") in ciphers
