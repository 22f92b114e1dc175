"""pebble_run.py: Debian's pebble for the browser tests, through the e2e
suites' own acmeutil.Pebble (its own directory CA, its own DNS server that
resolves every name to 127.0.0.1, validation really done against the
daemon; never PEBBLE_VA_ALWAYS_VALID).

    python3 pebble_run.py DIR HTTP_PORT TLS_PORT

prints one JSON line {"directory","directory_ca","root_file"} once pebble
answers, then runs until its standard input closes (the test ends)."""

import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "e2e"))

from acmeutil import Pebble  # noqa: E402


def main():
    d, http_port, tls_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    p = Pebble(d, http_port, tls_port)
    try:
        print(json.dumps({"directory": p.directory, "directory_ca": p.directory_ca,
                          "root_file": p.root_file()}), flush=True)
        sys.stdin.read()
    finally:
        p.close()


if __name__ == "__main__":
    main()
