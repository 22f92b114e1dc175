"""Boot test of the appliance image (tests/vm/boot-test.sh IMAGE).

Boots IMAGE (through a throw-away qcow2 overlay, so the image is not
changed) under qemu-system-x86_64 -accel tcg with user networking and
forwarded ports, then, as a user would from the console banner:
  - waits for https://ADDR:9443/api/v1/healthz and prints boot-to-healthz;
  - reads the URL, certificate fingerprint and first admin password from
    the serial console, checks the fingerprint against the served cert;
  - logs in, makes a token, creates an origin (an HTTP server on this host,
    10.0.2.2 from the guest), listeners on 8080 and on the privileged
    port 80 (CAP_NET_BIND_SERVICE at run time) and a route, and checks
    requests through the appliance;
  - reboots the guest (ctrl-alt-delete on the QEMU monitor, systemd's
    ctrl-alt-del.target) and checks the configuration and the token
    survived and traffic flows again;
  - powers off with system_powerdown (ACPI); when the guest does not
    react, kills qemu and says so.
Prints TAP ("ok N - ...") and "# timing: ..." lines.
"""

import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BOOT_TIMEOUT = int(os.environ.get("GH_VM_BOOT_TIMEOUT", "900"))
MARKER = "gatehouse-vm-origin-%d" % os.getpid()
results = []
t_start = time.monotonic()


def check(ok, what, detail=""):
    results.append(ok)
    n = len(results)
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what), flush=True)
    if not ok and detail:
        for line in str(detail).splitlines()[:20]:
            print("#   " + line, flush=True)
    return ok


def note(text):
    print("# " + text, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (MARKER + " " + self.path + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def api(port, method, path, body=None, headers=None, timeout=20):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("https://127.0.0.1:%d/api/v1%s" % (port, path), data=data,
                                 method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = raw
        return e.code, doc, e.headers


def get(port, path="/", host="app.example", timeout=10):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)


class VM:
    def __init__(self, image, work):
        self.work = work
        self.overlay = os.path.join(work, "overlay.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.abspath(image),
                        "-F", "qcow2", self.overlay], check=True)
        self.console = os.path.join(work, "console.log")
        self.mon_path = os.path.join(work, "monitor.sock")
        self.admin = free_port()
        self.http = free_port()
        self.http443 = free_port()
        fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (h, g)
                       for h, g in ((self.admin, 9443), (self.http, 8080), (self.http443, 443)))
        self.cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-smp", "2",
                    "-drive", "file=%s,if=virtio,format=qcow2" % self.overlay,
                    "-netdev", "user,id=n0," + fwd, "-device", "virtio-net-pci,netdev=n0",
                    "-serial", "file:" + self.console, "-display", "none", "-vga", "std",
                    "-monitor", "unix:%s,server,nowait" % self.mon_path]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.work, "qemu.out"), "w"),
                                     stderr=subprocess.STDOUT)

    def console_text(self):
        try:
            with open(self.console, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def monitor(self, command):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.mon_path)
        time.sleep(0.3)
        s.recv(65536)
        s.sendall((command + "\n").encode())
        time.sleep(0.5)
        try:
            s.recv(65536)
        except socket.timeout:
            pass
        s.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_healthz(vm, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if vm.proc.poll() is not None:
            return None
        try:
            code, _, _ = api(vm.admin, "GET", "/healthz", timeout=5)
            if code == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(2)
    return None


def banner(vm, timeout=180):
    """The console banner's password and fingerprint (the newest)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        text = vm.console_text()
        pw = re.findall(r"password ([0-9A-Za-z]{12,})", text)
        fp = re.findall(r"Certificate SHA-256:\s+([0-9A-F:]{95})", text)
        url = re.findall(r"https://[0-9.]+:9443/", text)
        if pw and fp:
            return pw[-1], fp[-1], (url[-1] if url else None)
        time.sleep(2)
    return None, None, None


def served_fingerprint(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with CTX.wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def main():
    if len(sys.argv) != 2:
        print("usage: boot-test.sh IMAGE", file=sys.stderr)
        return 2
    image = sys.argv[1]
    work = tempfile.mkdtemp(prefix="gatehouse-vm.")
    origin_port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", origin_port), Origin)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    vm = VM(image, work)
    try:
        return run(vm, origin_port)
    finally:
        vm.kill()
        srv.shutdown()
        keep = os.environ.get("GH_VM_KEEP")
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(vm.console, os.path.join(keep, "console.log"))
        shutil.rmtree(work, ignore_errors=True)
        note("timing: whole boot test %.0f s" % (time.monotonic() - t_start))


def run(vm, origin_port):
    vm.start()
    took = wait_healthz(vm, BOOT_TIMEOUT)
    if not check(took is not None, "healthz answers over https on :9443 after boot",
                 vm.console_text()[-3000:]):
        return 1
    note("timing: boot-to-healthz %.0f s (qemu TCG)" % took)

    pw, fp, url = banner(vm)
    check(pw is not None, "console banner shows the first admin password", vm.console_text()[-2000:])
    check(url is not None, "console banner shows the admin URL (%s)" % url)
    if fp:
        served = served_fingerprint(vm.admin)
        check(fp == served, "banner fingerprint matches the served certificate", fp + "\n" + served)
    else:
        check(False, "console banner shows the certificate fingerprint")
    if pw is None:
        return 1

    code, doc, _ = api(vm.admin, "POST", "/session", {"username": "admin", "password": pw})
    if not check(code == 200 and doc.get("csrf_token"), "log in with the first password", doc):
        return 1
    # The session is a cookie; take it for the token request.
    req = urllib.request.Request("https://127.0.0.1:%d/api/v1/session" % vm.admin,
                                 data=json.dumps({"username": "admin", "password": pw}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=CTX, timeout=20) as r:
        cookie = r.headers.get("Set-Cookie", "").split(";")[0]
        csrf = json.loads(r.read())["csrf_token"]
    code, doc, _ = api(vm.admin, "POST", "/tokens", {"name": "boot-test", "role": "admin"},
                       headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    if not check(code == 201 and doc.get("token"), "create an API token", doc):
        return 1
    auth = {"Authorization": "Bearer " + doc["token"]}

    code, doc, _ = api(vm.admin, "POST", "/origins", {
        "name": "host", "servers": [{"address": "10.0.2.2", "port": origin_port, "weight": 1}]},
        headers=auth)
    ok = check(code == 201, "create an origin (a server on the host, 10.0.2.2)", doc)
    code, doc, _ = api(vm.admin, "POST", "/listeners", {
        "name": "public", "address": "0.0.0.0", "port": 8080, "protocol": "http"}, headers=auth)
    ok &= check(code == 201, "create a listener on :8080", doc)
    code, doc, _ = api(vm.admin, "POST", "/listeners", {
        "name": "web", "address": "0.0.0.0", "port": 443, "protocol": "http"}, headers=auth)
    ok &= check(code == 201, "create a listener on :443 (privileged port, at run time)", doc)
    for name, lst in (("app", "public"), ("app443", "web")):
        code, doc, _ = api(vm.admin, "POST", "/routes", {
            "name": name, "listener": lst, "match": {"hosts": ["app.example"], "path_prefix": "/"},
            "origin": "host"}, headers=auth)
        ok &= check(code == 201, "create route %s on %s" % (name, lst), doc)
    code, body = get(vm.http, "/first")
    check(code == 200 and MARKER + " /first" in body, "request through the appliance (:8080)",
          "%s %s" % (code, body))
    code, body = get(vm.http443, "/privileged")
    check(code == 200 and MARKER + " /privileged" in body, "request through the appliance (:443)",
          "%s %s" % (code, body))

    # Reboot: ctrl-alt-delete reaches systemd (ctrl-alt-del.target).
    t0 = time.monotonic()
    boots = vm.console_text().count("SYSLINUX")
    vm.monitor("sendkey ctrl-alt-delete")
    how = "ctrl-alt-delete"
    while time.monotonic() - t0 < 120 and vm.console_text().count("SYSLINUX") <= boots:
        time.sleep(1)
    if vm.console_text().count("SYSLINUX") <= boots:
        how = "system_reset (the guest ignored ctrl-alt-delete)"
        vm.monitor("system_reset")
    note("reboot by " + how)
    took = wait_healthz(vm, BOOT_TIMEOUT)
    check(took is not None, "healthz again after the reboot (%s)" % how, vm.console_text()[-3000:])
    if took is None:
        return 1
    note("timing: reboot-to-healthz %.0f s" % (time.monotonic() - t0))
    code, doc, _ = api(vm.admin, "GET", "/routes/app", headers=auth)
    check(code == 200 and isinstance(doc, dict) and doc.get("name") == "app",
          "configuration and token survived the reboot", doc)
    code, body = "", ""
    for _ in range(30):
        code, body = get(vm.http, "/after-reboot")
        if code == 200:
            break
        time.sleep(1)
    check(code == 200 and MARKER + " /after-reboot" in body,
          "request through the appliance after the reboot", "%s %s" % (code, body))

    # Power off: ACPI power button; systemd-logind turns it into poweroff.
    vm.monitor("system_powerdown")
    try:
        vm.proc.wait(120)
        check(True, "ACPI power-off (system_powerdown) stops the VM")
    except subprocess.TimeoutExpired:
        note("power-off: the guest did not react to system_powerdown in 120 s; qemu killed")
        print("ok %d - ACPI power-off # SKIP guest ignores the power button" % (len(results) + 1))
        vm.kill()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
