// pebble.js: Debian's pebble (a test ACME CA) for the browser tests, run by
// pebble_run.py through the e2e suites' acmeutil.Pebble. startPebble()
// resolves {directory, directory_ca, root_file, stop()}.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// A TCP port nothing listens on now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// pebble validating http-01 at 127.0.0.1:<httpPort> and tls-alpn-01 at
// 127.0.0.1:<tlsPort> for every name.
export async function startPebble(httpPort, tlsPort) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-pebble-'));
  const proc = spawn('python3', [path.join(here, 'pebble_run.py'), dir, String(httpPort), String(tlsPort)],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  process.on('exit', () => proc.exitCode === null && proc.kill('SIGKILL'));
  let out = '', err = '';
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pebble did not start in 30 s:\n' + err)), 30000);
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)));
      }
    });
    proc.stderr.on('data', (d) => {
      err += d.toString();
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pebble_run.py exited (${code}):\n${err}`));
    });
  });
  proc.removeAllListeners('exit');
  return {
    ...info,
    dir,
    log: () => {
      try {
        return fs.readFileSync(path.join(dir, 'pebble.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async stop() {
      if (proc.exitCode === null) {
        proc.stdin.end();
        await new Promise((r) => {
          const t = setTimeout(() => {
            proc.kill('SIGKILL');
            r();
          }, 15000);
          proc.on('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
