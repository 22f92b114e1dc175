"""Bytes per idle keep-alive client connection of one proxy, and its
resident memory at start.

usage: idle.py PORT -- COMMAND...   (COMMAND runs the proxy in the foreground)

RSS is summed over the proxy's process and its children (nginx's worker).
N connections (10,000) each send one request and stay open; the growth of
RSS over them, divided by N, is the figure. With SEQ=1 each answer is read
before the next connection opens (no burst of origin connections); by
default all N requests are sent first and the answers read after.
Before the N connections, WARM (10,000) requests on one connection fill
what grows with requests up to a bound (gatehoused's access-log ring).
"""
import os, resource, socket, subprocess, sys, time

port = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
n = int(os.environ.get("N", "10000"))
seq = os.environ.get("SEQ")
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
want = n * 2 + 1000
if hard != resource.RLIM_INFINITY:
    want = min(want, hard)
lim = (want, want)
resource.setrlimit(resource.RLIMIT_NOFILE, lim)
p = subprocess.Popen(cmd, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, lim))


def tree(pid):
    out = [pid]
    for q in os.listdir("/proc"):
        if q.isdigit():
            try:
                with open("/proc/%s/stat" % q) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out += tree(int(q))
            except OSError:
                pass
    return out


def rss():
    total = 0
    for pid in tree(p.pid):
        try:
            for l in open("/proc/%d/status" % pid):
                if l.startswith("VmRSS:"):
                    total += int(l.split()[1]) * 1024
        except OSError:
            pass
    return total


req = b"GET /small HTTP/1.1\r\nHost: bench.test\r\n\r\n"
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        if s.recv(65536):
            s.close()
            break
        s.close()
    except OSError:
        pass
    time.sleep(0.1)
time.sleep(0.5)
start = rss()
# Fill what is bounded and grows with requests, not connections, before
# measuring: gatehoused's in-memory ring of the last 10,000 access-log
# lines for the admin API (about 2.6 MB when full, the same for 1 or
# 100,000 connections). WARM requests on one keep-alive connection.
w = socket.create_connection(("127.0.0.1", port))
for i in range(int(os.environ.get("WARM", "10000"))):
    w.sendall(req)
    got = b""
    while not got.endswith(b"a" * 100):
        d = w.recv(65536)
        if not d:
            break
        got += d
w.close()
warm = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req); s.recv(65536); warm.append(s)
for s in warm:
    s.close()
time.sleep(0.5)
before = rss()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req)
    socks.append(s)
    if seq:
        s.recv(65536)
if not seq:
    for s in socks:
        s.recv(65536)
time.sleep(1)
after = rss()
print("%d\t%.0f" % (start // 1024, (after - before) / n))
for s in socks:
    s.close()
p.terminate()
p.wait()
