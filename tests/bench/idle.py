"""Bytes per idle keep-alive client connection: RSS of the proxy before and
after N connections that each made one request and stay open (10,000)."""
import os, resource, socket, subprocess, sys, time
gh, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = int(os.environ.get("N", "10000"))
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, n + 1000))
p = subprocess.Popen([gh, "--db", db, "--workers", "1", "--access-log", "off",
                      "--admin-listen", "off", "--log-level", "warn"],
                     preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, n + 1000)))
def rss():
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) * 1024
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError:
        time.sleep(0.1)
time.sleep(0.5)
start = rss()
req = b"GET /small HTTP/1.1\r\nHost: bench.test\r\n\r\n"
warm = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req); s.recv(65536); warm.append(s)
for s in warm: s.close()
time.sleep(0.5)
before = rss()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req)
    socks.append(s)
for s in socks:
    s.recv(65536)
time.sleep(1)
after = rss()
print("rss_at_start_kib %d per_idle_conn_bytes %.0f" % (start // 1024, (after - before) / n))
for s in socks: s.close()
p.terminate(); p.wait()
