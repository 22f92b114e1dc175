// posture.js: where a route's traffic is encrypted. Two legs: client to
// the appliance (the listener's protocol) and appliance to the origin (the
// origin's TLS setting); a clear leg to a server not on this host leaves
// the appliance in plaintext.

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopback(addr) {
  return LOOPBACK.test(String(addr || '').replace(/^\[|\]$/g, ''));
}

// -> {client: bool, origin: bool, offHost: bool, level: 'encrypted'|'local'|'plaintext', text}
export function routePosture(route, listenersByName, originsByName) {
  const l = listenersByName.get(route.listener) || {};
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
