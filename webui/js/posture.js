// posture.js: where a route's traffic is encrypted. Two legs: client to
// the appliance (the listener's protocol) and appliance to the origin (the
// origin's TLS setting); a clear leg to a server not on this host leaves
// the appliance in plaintext.

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopback(addr) {
  return LOOPBACK.test(String(addr || '').replace(/^\[|\]$/g, ''));
}

// -> {client: bool, origin: bool, offHost: bool, level: 'encrypted'|'local'|'plaintext', text}
// <api>: the route's entry from GET /posture when the daemon has it (it
// knows best); else the legs are worked out from the configuration.
export function routePosture(route, listenersByName, originsByName, api) {
  if (api) {
    const pass = api.proxy_to_origin === 'passthrough';
    let level, text;
    if (api.origin_encrypted || pass) {
      level = 'encrypted';
      text = pass ? 'Encrypted end to end (TLS passthrough)'
        : api.origin_verified === false ? "Encrypted to the origin (TLS), but the servers' certificates are not verified"
          : 'Encrypted to the origin (TLS, verified)';
    } else if (api.cleartext_leaves_host) {
      level = 'plaintext';
      text = 'Leaves the appliance in the clear' + (api.plaintext_servers_off_host && api.plaintext_servers_off_host.length ? ' to ' + api.plaintext_servers_off_host.join(', ') : '');
    } else {
      level = 'local';
      text = 'In the clear, but only on this host (loopback)';
    }
    return { client: !!api.client_encrypted || api.client_to_proxy === 'passthrough', origin: level === 'encrypted', offHost: !!api.cleartext_leaves_host, level, text };
  }
  const l = listenersByName.get(route.listener || (route.listeners || [])[0]) || {};
  const o = originsByName.get(route.origin) || { servers: [] };
  const passthrough = l.protocol === 'tls-passthrough';
  const client = l.protocol === 'https' || passthrough;
  const origin = passthrough || !!(o.tls && o.tls.enabled);
  const offHost = (o.servers || []).some((s) => !isLoopback(s.address));
  let level, text;
  if (origin) {
    level = 'encrypted';
    text = passthrough ? 'Encrypted end to end (TLS passthrough)' : 'Encrypted to the origin (TLS)';
  } else if (!offHost) {
    level = 'local';
    text = 'In the clear, but only on this host (loopback)';
  } else {
    level = 'plaintext';
    text = 'Leaves the appliance in the clear';
  }
  return { client, origin, offHost, level, text };
}

export const POSTURE_LABEL = { encrypted: 'Encrypted', local: 'Clear (local)', plaintext: 'Plaintext off host' };
export const POSTURE_KIND = { encrypted: 'ok', local: 'info', plaintext: 'warn' };
