#!/usr/bin/env python3
"""tests/bench/cpu_cost.py: user-space instructions per proxied 100 B
keep-alive request, gatehoused beside nginx and HAProxy (callgrind:
deterministic, usable on a busy machine).

Each proxy runs under valgrind --tool=callgrind with one worker in front of
the same origin (a small Python server answering 100 B). One client sends N
sequential keep-alive GETs on one connection; a request's cost is the
difference of the proxy's instruction counts for N2 and N1 requests divided
by N2 - N1, so start-up and shutdown cancel out. System calls are counted
separately by syscalls.sh; this is the user-space part of the CPU a request
costs.

Usage: tests/bench/cpu_cost.py GATEHOUSED [N1 N2]
Environment: PROXIES (default "gatehoused nginx haproxy"), KEEP=DIR keeps
the callgrind files there (for callgrind_annotate), TLS=1: the client speaks
TLS 1.3 to the proxy (ECDSA P-256, session tickets on, as tls.sh's
keep-alive row); the requests then also count record encryption.
ORIGIN_TLS=1: the origin speaks TLS (the same certificate) and every proxy
re-encrypts to it over its pooled connection, verification off.
STRACE=1 counts system calls per request instead (strace -f -c).
OUT=DIR also writes the figures to DIR/cpu_cost.tsv (cpu_cost_tls.tsv with
TLS=1, cpu_cost_strace.tsv or cpu_cost_tls_strace.tsv with STRACE=1;
_origin_tls before _strace with ORIGIN_TLS=1): a
line "proxy<TAB>per request" each, for dataplane.sh.
"""
import os
import shutil
import ssl
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, fresh_db, origin as bench_origin  # noqa: E402


BODY = b"a" * 100
REQ = b"GET /x HTTP/1.1\r\nHost: app.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"


def origin():
    """A keep-alive origin answering every request with 100 B."""
    return bench_origin(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        b"Content-Length: 100\r\n\r\n" + BODY)


TLS = os.environ.get("TLS") == "1"
ORIGIN_TLS = os.environ.get("ORIGIN_TLS") == "1"
STRACE = os.environ.get("STRACE") == "1"


def make_cert(work):
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    if os.path.exists(cert):
        return
    subprocess.run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--curve",
                    "secp256r1", "--no-text", "--outfile", key], check=True,
                   stderr=subprocess.DEVNULL)
    tmpl = os.path.join(work, "cert.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "bench.test"\ndns_name = "bench.test"\nexpiration_days = 7\n'
                'tls_www_server\nsigning_key\nencryption_key\n')
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                    "--template", tmpl, "--outfile", cert], check=True,
                   stderr=subprocess.DEVNULL)
    with open(os.path.join(work, "haproxy.pem"), "w") as f:
        f.write(open(cert).read() + open(key).read())


def gh_setup(binary, work, oport, pport):
    db, kek = fresh_db(binary, work, "--admin-listen", "off")
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA foreign_keys=ON")
    for t in ("routes", "servers", "origins", "listeners"):
        c.execute("DELETE FROM %s" % t)
    c.execute("DELETE FROM certificates")
    if TLS:
        c.execute("INSERT INTO certificates (name, certificate_pem, private_key_pem) VALUES (?, ?, ?)",
                  ("bench", open(os.path.join(work, "cert.pem")).read(),
                   open(os.path.join(work, "key.pem"), "rb").read()))
        c.execute("INSERT INTO listeners (name, address, port, protocol, default_certificate_id) "
                  "VALUES ('l', '127.0.0.1', ?, 'https', 1)", (pport,))
    else:
        c.execute("INSERT INTO listeners (name, address, port) VALUES ('l', '127.0.0.1', ?)", (pport,))
    c.execute("INSERT INTO origins (name, tls_enabled, tls_verify) VALUES ('o', ?, 0)",
              (int(ORIGIN_TLS),))
    c.execute("INSERT INTO servers (origin_id, address, port) VALUES (1, '127.0.0.1', ?)", (oport,))
    c.execute("INSERT INTO routes (name, listener_id, origin_id) VALUES ('r', 1, 1)")
    c.close()
    return [binary, "--db", db, "--kek", kek, "--workers", "1", "--access-log", "off",
            "--admin-listen", "off", "--log-level", "warn"]


LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib.sh")


def lib_conf(func, path, work, oport, pport, *opts):
    """A peer's configuration from lib.sh (nginx_conf or haproxy_cfg), the
    same as the other bench scripts write."""
    subprocess.run(["bash", "-c", 'source "$0"; "$@"', LIB, func, path] + list(opts),
                   env=dict(os.environ, work=work, PROXY_PORT=str(pport),
                            ORIGIN_PORT=str(oport)), check=True)


def sed(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def origin_tls(work):
    """origin() behind TLS (the bench certificate)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(work, "cert.pem"), os.path.join(work, "key.pem"))
    return bench_origin(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        b"Content-Length: 100\r\n\r\n" + BODY, ctx)


def nginx_setup(work, oport, pport):
    conf = os.path.join(work, "nginx.conf")
    lib_conf("nginx_conf", conf, work, oport, pport, "conns=1024", "keepalive=16",
             "master=off", *(["tls=on"] if TLS else []))
    if ORIGIN_TLS:
        sed(conf, "proxy_pass http://origin;", "proxy_pass https://origin;")
    return ["nginx", "-c", conf, "-e", os.path.join(work, "nginx.err")]


def haproxy_setup(work, oport, pport):
    conf = os.path.join(work, "haproxy.cfg")
    lib_conf("haproxy_cfg", conf, work, oport, pport, *(["tls=on"] if TLS else []))
    if ORIGIN_TLS:
        sed(conf, "\tserver origin 127.0.0.1:%d" % oport,
            "\tserver origin 127.0.0.1:%d ssl verify none" % oport)
    return ["haproxy", "-db", "-f", conf]


def run(proxy, cmd, pport, n, out):
    if STRACE:
        tool = ["strace", "-f", "-c", "-o", out + ".strace"]
    else:
        tool = ["valgrind", "--tool=callgrind", "--trace-children=no",
                "--callgrind-out-file=" + out]
    p = subprocess.Popen(tool + cmd, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", pport), timeout=30)
            break
        except OSError:
            if time.time() > deadline:
                p.kill()
                raise SystemExit("%s did not listen" % proxy)
            time.sleep(0.2)
    if TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        s = ctx.wrap_socket(s, server_hostname="bench.test")
    for _ in range(n):
        s.sendall(REQ)
        got = b""
        while not got.endswith(BODY):
            d = s.recv(65536)
            if not d:
                raise SystemExit("%s closed: %r" % (proxy, got[:200]))
            got += d
        if b" 200 " not in got.split(b"\r\n", 1)[0]:
            raise SystemExit("%s: not 200: %r" % (proxy, got[:200]))
    s.close()
    sig = signal.SIGTERM if proxy != "nginx" else signal.SIGQUIT
    if STRACE:
        # strace passes no signal on: stop the proxy itself.
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            for child in f.read().split():
                os.kill(int(child), sig)
    else:
        p.send_signal(sig)
    p.wait()
    total = 0
    if STRACE:
        for line in open(out + ".strace"):
            f = line.split()
            if len(f) >= 4 and f[-1] == "total":
                return int(f[3])
        raise SystemExit("no strace total for " + proxy)
    for name in os.listdir(os.path.dirname(out)):
        path = os.path.join(os.path.dirname(out), name)
        if not path.startswith(out):
            continue
        for line in open(path):
            if line.startswith("summary:") or line.startswith("totals:"):
                total += int(line.split()[1])
                break
    if not total:
        raise SystemExit("no totals for " + proxy)
    return total


def main():
    binary = sys.argv[1]
    n1, n2 = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (200, 1200)
    proxies = os.environ.get("PROXIES", "gatehoused nginx haproxy").split()
    keep = os.environ.get("KEEP")
    res = {}
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        if TLS or ORIGIN_TLS:
            make_cert(work)
        oport = origin_tls(work) if ORIGIN_TLS else origin()
        for proxy in proxies:
            per = []
            for n in (n1, n2):
                pport = free_port()
                d = os.path.join(work, "%s.%d" % (proxy, n))
                os.mkdir(d)
                if proxy == "gatehoused":
                    cmd = gh_setup(binary, work, oport, pport)
                elif proxy == "nginx":
                    cmd = nginx_setup(work, oport, pport)
                else:
                    cmd = haproxy_setup(work, oport, pport)
                per.append(run(proxy, cmd, pport, n, os.path.join(d, "cg")))
                if keep:
                    os.makedirs(keep, exist_ok=True)
                    for f in os.listdir(d):
                        shutil.copy(os.path.join(d, f), os.path.join(keep, "%s.%d.%s" % (proxy, n, f)))
            res[proxy] = (per[1] - per[0]) / (n2 - n1)
        out = os.environ.get("OUT")
        if out:
            os.makedirs(out, exist_ok=True)
            name = "cpu_cost%s%s%s.tsv" % ("_tls" if TLS else "",
                                           "_origin_tls" if ORIGIN_TLS else "",
                                           "_strace" if STRACE else "")
            with open(os.path.join(out, name), "w") as f:
                f.write("proxy\t%s_per_request\n" % ("syscalls" if STRACE else "instructions"))
                for proxy in proxies:
                    f.write("%s\t%.2f\n" % (proxy, res[proxy]))
        base = res.get("nginx")
        print("| proxy | %s per 100 B request%s%s | against nginx |"
              % ("system calls" if STRACE else "instructions", " over TLS 1.3" if TLS else "",
                 ", TLS to the origin" if ORIGIN_TLS else ""))
        print("| --- | ---: | ---: |")
        for proxy in proxies:
            print(("| %s | %.2f | %s |" if STRACE else "| %s | %.0f | %s |") % (proxy, res[proxy],
                                         "%.2fx" % (res[proxy] / base) if base else ""))
        if "nginx" in res and "gatehoused" in res:
            print("\ngatehoused needs %.2fx nginx's count per request "
                  "(%.2fx the requests per unit)"
                  % (res["gatehoused"] / res["nginx"], res["nginx"] / res["gatehoused"]))


if __name__ == "__main__":
    main()
