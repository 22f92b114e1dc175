#!/usr/bin/python3
"""l4load.py: TCP bulk-throughput load for tests/bench/l4.sh.

  l4load.py sink PORT
      accepts on 127.0.0.1:PORT; each connection is drained into /dev/null
      with splice(2) (no copy into Python), and on EOF answers the byte
      count as one line and closes.
  l4load.py send PORT CONNS MIB
      opens CONNS connections to 127.0.0.1:PORT, sends MIB MiB on each with
      sendfile(2) from a file in /dev/shm, half-closes, waits for every
      sink's byte count and checks it; prints "<seconds> <MiB/s>".

Both ends leave the payload in the kernel, so the proxy under test, not
Python, is what limits the rate.
"""

import os
import socket
import sys
import tempfile
import threading
import time


def sink(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(256)
    null = os.open("/dev/null", os.O_WRONLY)

    def serve(s):
        r, w = os.pipe()
        n = 0
        try:
            while True:
                k = os.splice(s.fileno(), w, 1 << 20)
                if k == 0:
                    break
                n += k
                while k > 0:
                    k -= os.splice(r, null, k)
            s.sendall(b"%d\n" % n)
        except OSError:
            pass
        finally:
            os.close(r)
            os.close(w)
            s.close()

    print("ready", flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


def send(port, conns, mib):
    total = mib << 20
    with tempfile.NamedTemporaryFile(dir="/dev/shm") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(min(mib, 64)):
            f.write(chunk)
        f.flush()
        fsize = min(mib, 64) << 20
        errors = []

        def one():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=120)
                s.settimeout(None)  # blocking: sendfile(2) must not see EAGAIN
                left = total
                fd = os.open(f.name, os.O_RDONLY)
                try:
                    while left > 0:
                        off = 0
                        while off < fsize and left > 0:
                            k = os.sendfile(s.fileno(), fd, off, min(fsize - off, left))
                            off += k
                            left -= k
                finally:
                    os.close(fd)
                s.shutdown(socket.SHUT_WR)
                got = b""
                while not got.endswith(b"\n"):
                    b = s.recv(64)
                    if not b:
                        break
                    got += b
                s.close()
                if got.strip() != str(total).encode():
                    errors.append("sink got %r of %d" % (got, total))
            except OSError as e:
                errors.append(str(e))

        threads = [threading.Thread(target=one) for _ in range(conns)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.monotonic() - t0
    if errors:
        print("error: " + "; ".join(errors[:3]), file=sys.stderr)
        sys.exit(1)
    print("%.3f %.1f" % (dt, conns * mib / dt))


if __name__ == "__main__":
    if sys.argv[1] == "sink":
        sink(int(sys.argv[2]))
    else:
        send(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
