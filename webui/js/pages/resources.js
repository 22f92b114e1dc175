// resources.js: list, create, edit and delete for listeners, routes,
// origins, users and tokens. Each collection is a description below; the
// forms send what the API documents and show its field errors in place.

import { api, seg, hasPath, schemaProp, schemaEnum } from '../api.js';
import { h, toast, confirmDialog, revealDialog, pageHead, table, badge, fmtTime, errorBox } from '../ui.js';
import { buildForm } from '../form.js';
import { PAGED, pagedTable } from '../list.js';
import { routePosture, POSTURE_LABEL, POSTURE_KIND } from '../posture.js';
import { routePanel } from './logs.js';
import { PASSWORD_HELP } from './account.js';
import { explainPanel } from './explain.js';

const PROTOCOLS = ['http', 'https', 'tcp', 'udp', 'tls-passthrough'];
const METHODS = 'GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE';

// What the other pages need to fill selects and badges.
export async function loadRefs() {
  const [listeners, origins, status, certs, posture, accessLists, rateLimits, errorPages] = await Promise.all([
    api('GET', '/listeners'),
    api('GET', '/origins'),
    api('GET', '/status'),
    hasPath('/certificates') ? api('GET', '/certificates') : Promise.resolve([]),
    hasPath('/posture') ? api('GET', '/posture') : Promise.resolve(null),
    hasPath('/access_lists') ? api('GET', '/access_lists') : Promise.resolve([]),
    hasPath('/rate_limits') ? api('GET', '/rate_limits') : Promise.resolve([]),
    hasPath('/error_pages') ? api('GET', '/error_pages') : Promise.resolve([]),
  ]);
  const byRoute = new Map(((posture && posture.routes) || []).map((p) => [p.route, p]));
  const this_ = {
    listeners, origins, status, certs, accessLists, rateLimits, errorPages,
    posture: (r) => routePosture(r, this_.listenersByName, this_.originsByName, byRoute.get(r.name)),
    listenersByName: new Map(listeners.map((l) => [l.name, l])),
    originsByName: new Map(origins.map((o) => [o.name, o])),
    boundById: new Map((status.listeners || []).map((l) => [l.id, l])),
  };
  return this_;
}

const names = (arr) => arr.map((x) => x.name);

// Fields the served OpenAPI schema has that the forms below do not know
// yet (booleans, integers, enums): shown generically, so a newer daemon's
// simple options are editable at once.
function extraFields(component, known) {
  const s = schemaProp(component, '') || null;
  const props = (s && s.properties) || {};
  const out = [];
  for (const [k, p] of Object.entries(props)) {
    if (known.includes(k) || p.readOnly) continue;
    if (p.type === 'boolean') out.push({ key: k, label: k.replace(/_/g, ' '), type: 'checkbox' });
    else if (Array.isArray(p.enum)) out.push({ key: k, label: k.replace(/_/g, ' '), type: 'select', empty: '(default)', options: p.enum });
    else if (p.type === 'integer') out.push({ key: k, label: k.replace(/_/g, ' '), type: 'number' });
  }
  return out;
}

// The default the served schema states for a field, for a placeholder
// or a select: the daemon's field tables are the only copy.
function schemaDefault(component, path, fallback) {
  const s = schemaProp(component, path);
  return s && s.default !== undefined ? s.default : fallback;
}

// A number field whose placeholder is the schema's default.
// Header rules (route request_headers / response_headers) are edited as
// "Name: value" lines.
const HDR_SIDES = [['request', 'Request'], ['response', 'Response']];
const ERROR_STATUSES = ['400', '403', '404', '429', '500', '502', '503', '504'];

function headerLines(obj) {
  return Object.entries(obj || {}).map(([k, v]) => `${k}: ${v}`).join('\n');
}

function parseHeaderLines(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (line.trim() === '') continue;
    if (i < 0) out[line.trim()] = '';
    else out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

function numberField(component, key, label, more) {
  const d = schemaDefault(component, key, undefined);
  return Object.assign({ key, label, type: 'number', placeholder: d === undefined ? '' : String(d) }, more || {});
}

function certOptions(refs, kind) {
  return names(refs.certs.filter((c) => !kind || !c.kind || c.kind === kind));
}

export const COLLECTIONS = {
  listeners: {
    title: 'Listeners',
    one: 'listener',
    schema: 'Listener',
    intro: 'Addresses and ports the appliance accepts client traffic on.',
    columns: (refs, ctx) => [
      { label: 'Name', cell: (l) => h('a', { href: '#/listeners/' + seg(l.name) }, l.name) },
      { label: 'Address', cell: (l) => l.address },
      { label: 'Port', cell: (l) => {
        const b = refs.boundById.get(l.id);
        return b && b.port !== l.port ? `${b.port} (asked ${l.port})` : String(l.port);
      } },
      { label: 'Protocol', cell: (l) => l.protocol || 'http' },
      { label: 'State', cell: (l) => {
        const b = refs.boundById.get(l.id);
        if (!b) return badge('pending', 'info');
        if (b.state === 'error' || b.bound === false) return h('span', null, badge('error', 'bad'), ' ', b.error || '');
        return badge(b.state || 'bound', 'ok');
      } },
      actions('listeners', ctx),
    ],
    fields: (refs) => [
      { key: 'name', label: 'Name', required: true, help: 'Letters, digits, . _ -; unique.' },
      { key: 'address', label: 'Address', required: true, placeholder: '0.0.0.0', help: 'A numeric IPv4 or IPv6 address: 0.0.0.0 or :: for all, 127.0.0.1 for this host only.' },
      { key: 'port', label: 'Port', type: 'number', required: true, help: '0 lets the kernel pick; the bound port is shown in the list.' },
      { key: 'protocol', label: 'Protocol', type: 'select', options: schemaEnum('Listener', 'protocol', PROTOCOLS), default: schemaDefault('Listener', 'protocol', 'http') },
      { key: 'default_certificate', label: 'Default certificate', type: 'select', empty: '(none)', options: () => certOptions(refs, 'leaf'),
        show: (v) => v.protocol === 'https', help: 'Served to clients that send no SNI name or an unknown one.' },
      ...(schemaProp('Listener', 'client_auth') ? [
        { key: 'client_auth', label: 'Client certificates', type: 'select', options: schemaEnum('Listener', 'client_auth', ['none', 'optional', 'required']), default: schemaDefault('Listener', 'client_auth', 'none'), show: (v) => v.protocol === 'https' },
        { key: 'client_ca', label: 'Client certificates must chain to', type: 'select', empty: '(choose a CA)', options: () => certOptions(refs, 'ca'),
          show: (v) => v.protocol === 'https' && v.client_auth && v.client_auth !== 'none' },
      ] : []),
      { type: 'section', label: 'Timeouts and limits', fold: true },
      numberField('Listener', 'timeouts.header_ms', 'Header timeout (ms)', { show: (v) => ['http', 'https'].includes(v.protocol) }),
      numberField('Listener', 'timeouts.keepalive_ms', 'Keep-alive timeout (ms)', { show: (v) => ['http', 'https'].includes(v.protocol) }),
      { key: 'trust_forwarded', label: "Trust clients' X-Forwarded-* headers", type: 'checkbox', show: (v) => ['http', 'https'].includes(v.protocol) },
      ...(schemaProp('Listener', 'max_connections') ? [{ key: 'max_connections', label: 'Most open connections (or UDP sessions)', type: 'number', placeholder: 'no limit' }] : []),
      ...(schemaProp('Listener', 'proxy_protocol_from') ? [{ key: 'proxy_protocol_from', label: 'Clients that send a PROXY protocol header', type: 'list', placeholder: '10.0.0.5, 10.0.0.6', help: 'Their connections must start with one.' }] : []),
      ...(schemaProp('Listener', 'trusted_proxies') ? [{ key: 'trusted_proxies', label: 'Trusted proxies (CDN, load balancer)', type: 'list', placeholder: '10.0.0.0/8, 2001:db8::/32', help: 'From these, the client is the right-most X-Forwarded-For address not listed here.' }] : []),
      ...(schemaProp('Listener', 'error_pages') ? [{ key: 'error_pages', label: 'Error pages', type: 'select', empty: '(plain text)', options: () => names(refs.errorPages), show: (v) => !v.protocol || v.protocol === 'http' || v.protocol === 'https',
        help: "Pages for the proxy's own answers on this listener (404 when no route matches); a route's own pages win." }] : []),
      ...extraFields('Listener', ['id', 'name', 'address', 'port', 'protocol', 'timeouts', 'trust_forwarded', 'default_certificate', 'client_auth', 'client_ca', 'max_connections', 'proxy_protocol_from', 'trusted_proxies', 'error_pages']),
    ],
  },

  routes: {
    title: 'Routes',
    one: 'route',
    schema: 'Route',
    intro: 'Which requests on which listener go to which origin. The last column says whether the traffic leaves the appliance encrypted.',
    columns: (refs, ctx) => [
      { label: 'Name', cell: (r) => h('a', { href: '#/routes/' + seg(r.name) }, r.name) },
      { label: 'Listeners', cell: (r) => routeListeners(r).map((n, i) => [i ? ', ' : '', h('a', { href: '#/listeners/' + seg(n) }, n)]) },
      { label: 'Match', cell: (r) => matchText(r) },
      { label: 'Origin', cell: (r) => (r.origin ? h('a', { href: '#/origins/' + seg(r.origin) }, r.origin) : r.redirect ? '→ ' + r.redirect.to : r.respond ? 'answers ' + r.respond.status : '') },
      { label: 'To origin', cell: (r) => {
        const p = refs.posture(r);
        return h('span', { title: p.text }, badge(POSTURE_LABEL[p.level], POSTURE_KIND[p.level]), h('span', { class: 'sr-only' }, ': ' + p.text));
      } },
      actions('routes', ctx),
    ],
    fields: (refs, mode, item) => {
      if (item) {
        for (const [side] of HDR_SIDES) {
          for (const op of ['set', 'add']) item[`_${side}_${op}`] = headerLines(item[`${side}_headers`] && item[`${side}_headers`][op]);
        }
      }
      // the protocols of the chosen listeners
      const protos = (v) => (v.listeners || []).map((n) => (refs.listenersByName.get(n) || {}).protocol || 'http');
      const has = (v, p) => protos(v).includes(p) || (!protos(v).length && p === 'http');
      const isHttp = (v) => has(v, 'http') || has(v, 'https');
      // policy-b: a route answers with its origin, a redirect or a fixed response
      const answer = (v) => (isHttp(v) && v._answer) || 'origin';
      const redirect = (v) => answer(v) === 'redirect';
      const respond = (v) => answer(v) === 'respond';
      return [
        { key: 'name', label: 'Name', required: true },
        { key: 'listeners', label: 'Listeners', type: 'multiselect', options: names(refs.listeners), required: true,
          help: 'One or several: a route on an http and an https listener serves both.' },
        ...(schemaProp('Route', 'access_list') ? [{ key: 'access_list', label: 'Access list', type: 'select', empty: '(anyone)', options: () => names(refs.accessLists), show: isHttp, help: 'Who may use this route: addresses and users with a password.' }] : []),
        ...(schemaProp('Route', 'error_pages') ? [{ key: 'error_pages', label: 'Error pages', type: 'select', empty: '(plain text)', options: () => names(refs.errorPages), show: isHttp, help: "Pages for the answers the proxy makes itself (502, 503, 504, ...)." }] : []),
        ...(schemaProp('Route', 'rate_limit') ? [{ key: 'rate_limit', label: 'Rate limit', type: 'select', empty: '(none)', options: () => names(refs.rateLimits), show: isHttp, help: 'Requests over it get 429.' }] : []),
        ...(schemaProp('Route', 'redirect') ? [{ key: '_answer', noSend: true, type: 'select', label: 'Answer with', show: isHttp,
          options: [{ value: 'origin', label: 'the origin' }, { value: 'redirect', label: 'a redirect' }, { value: 'respond', label: 'a fixed response' }],
          default: item && item.redirect ? 'redirect' : item && item.respond ? 'respond' : 'origin' }] : []),
        { key: 'origin', label: 'Origin', type: 'select', empty: '(choose)', options: names(refs.origins), required: true, show: (v) => answer(v) === 'origin' },
        ...(schemaProp('Route', 'redirect') ? [
          { key: 'redirect.to', label: 'Redirect to', required: true, placeholder: 'https://{host}{path}', show: redirect,
            help: 'Variables: {host} {path} {scheme} {client_ip} {route}. The request\'s query is added unless dropped.' },
          { key: 'redirect.status', label: 'Status', type: 'select', number: true, options: ['301', '302', '303', '307', '308'], default: String(schemaDefault('Route', 'redirect.status', 308)), show: redirect },
          { key: 'redirect.drop_query', label: 'Drop the query', type: 'checkbox', show: redirect },
          numberField('Route', 'respond.status', 'Status', { required: true, show: respond }),
          { key: 'respond.content_type', label: 'Content type', placeholder: schemaDefault('Route', 'respond.content_type', 'text/plain'), show: respond },
          { key: 'respond.body', label: 'Body', type: 'textarea', show: respond },
          { key: 'rewrite.replace_prefix', label: 'Replace the path prefix with', placeholder: '/v2/', show: (v) => isHttp(v) && answer(v) === 'origin',
            help: 'The matched path prefix is replaced by this in the path sent to the origin. Empty: sent as received.' },
        ] : []),
        { type: 'section', label: 'Match', show: isHttp },
        { key: 'match.hosts', label: 'Hosts', type: 'list', show: isHttp, placeholder: 'app.example, *.example', help: 'Empty: any host. Separate with commas or spaces.' },
        { key: 'match.path_prefix', label: 'Path prefix', show: isHttp, placeholder: schemaDefault('Route', 'match.path_prefix', '/') },
        { key: 'match.methods', label: 'Methods', type: 'list', show: isHttp, placeholder: 'GET, POST', help: 'Empty: any. ' + METHODS },
        { key: 'match.sni', label: 'SNI names', type: 'list', show: (v) => (has(v, 'tls-passthrough') || has(v, 'https')) && !!schemaProp('Route', 'match.sni'),
          help: 'TLS server names this route takes; on an https listener these are passed through unopened.' },
        { key: 'match.sources', label: 'Client addresses', type: 'list', show: () => !!schemaProp('Route', 'match.sources'), placeholder: '192.0.2.0/24', help: 'Empty: any client.' },
        { type: 'section', label: 'Options', fold: true },
        numberField('Route', 'priority', 'Priority', { help: 'Higher is tried first.' }),
        { key: 'forwarded', label: 'Add an RFC 7239 Forwarded header', type: 'checkbox', show: isHttp },
        { key: 'max_body_bytes', label: 'Largest request body (bytes)', type: 'number', show: isHttp, placeholder: 'unlimited' },
        numberField('Route', 'timeouts.connect_ms', 'Connect timeout (ms)'),
        numberField('Route', 'timeouts.response_ms', 'Response timeout (ms)', { show: isHttp }),
        numberField('Route', 'timeouts.idle_ms', 'Idle timeout (ms)'),
        ...(schemaProp('Route', 'redirect_https') ? [{ key: 'redirect_https', label: 'Redirect plain HTTP requests to https', type: 'checkbox', show: (v) => has(v, 'http') }] : []),
        ...(schemaProp('Route', 'hsts_max_age') ? [{ key: 'hsts_max_age', label: 'HSTS max-age (seconds)', type: 'number', placeholder: 'no header', show: (v) => has(v, 'https') }] : []),
        ...(schemaProp('Route', 'request_headers') ? [
          { type: 'section', label: 'Headers', fold: true, show: isHttp },
          ...HDR_SIDES.flatMap(([side, what]) => [
            { key: `_${side}_set`, noSend: true, type: 'textarea', rows: 3, label: `${what} headers to set`, show: isHttp, placeholder: 'X-Env: prod',
              help: 'One "Name: value" a line; replaces the header. Values may use {host} {path} {scheme} {client_ip} {route} {request_id}.' },
            { key: `_${side}_add`, noSend: true, type: 'textarea', rows: 3, label: `${what} headers to add`, show: isHttp, placeholder: 'Via-Gate: {host}' },
            { key: `${side}_headers.remove`, type: 'list', label: `${what} headers to remove`, show: isHttp, placeholder: 'X-Debug' },
          ]),
          { key: 'request_id', label: 'Keep or add X-Request-ID (logged)', type: 'checkbox', show: isHttp },
          { type: 'section', label: 'Maintenance', fold: true, show: isHttp },
          { key: 'maintenance.enabled', label: 'In maintenance: answer 503', type: 'checkbox', show: isHttp },
          numberField('Route', 'maintenance.retry_after_s', 'Retry-After (seconds)', { show: isHttp, placeholder: 'no header' }),
          { key: 'maintenance.allow', label: 'Still served', type: 'list', show: isHttp, placeholder: '10.0.0.0/8', help: 'Client addresses or CIDR blocks that get the origin anyway.' },
        ] : []),
        ...(schemaProp('Route', 'compress') ? [
          { type: 'section', label: 'Compression', fold: true, show: isHttp },
          { key: '_compress', noSend: true, type: 'checkbox', label: 'Compress responses (br or gzip, as the client accepts)', default: !!(item && item.compress), show: isHttp },
          { key: 'compress.types', label: 'Content types', type: 'list', required: true, placeholder: 'text/*, application/json', show: (v) => isHttp(v) && !!v._compress,
            help: 'Media types, or type/* for a whole type. Already-encoded, ranged and no-transform responses are never compressed.' },
          numberField('Route', 'compress.min_bytes', 'Smallest response compressed (bytes)', { show: (v) => isHttp(v) && !!v._compress }),
          ...(schemaProp('Route', 'compress.codings') ? [
            { key: 'compress.codings', label: 'Codings offered', type: 'multiselect', options: schemaEnum('Route', 'compress.codings', ['gzip', 'br']),
              show: (v) => isHttp(v) && !!v._compress, help: 'None selected: both. A client that accepts only codings not offered gets the response as it is.' },
            numberField('Route', 'compress.gzip_level', 'gzip level (1 fastest to 9 smallest)', { show: (v) => isHttp(v) && !!v._compress }),
            numberField('Route', 'compress.br_level', 'Brotli quality (0 fastest to 11 smallest)', { show: (v) => isHttp(v) && !!v._compress,
              help: 'Above 4 brotli is much slower, and each stream reserves more of the worker\'s compressor budget (API: /settings/compression).' }),
          ] : []),
        ] : []),
        ...(schemaProp('Route', 'forward_auth') ? [
          { type: 'section', label: 'Forward auth', fold: true, show: (v) => isHttp(v) && answer(v) === 'origin' },
          { key: '_fa_on', noSend: true, type: 'checkbox', label: 'Ask an auth service first (Authelia, Authentik, oauth2-proxy)', show: (v) => isHttp(v) && answer(v) === 'origin',
            default: !!(item && item.forward_auth) },
          { key: 'forward_auth.origin', label: 'Auth service (origin)', type: 'select', empty: '(choose)', options: names(refs.origins), required: true, show: (v) => isHttp(v) && answer(v) === 'origin' && !!v._fa_on },
          { key: 'forward_auth.path', label: 'Path', required: true, placeholder: '/api/verify', show: (v) => isHttp(v) && answer(v) === 'origin' && !!v._fa_on,
            help: 'A 2xx answer lets the request through; any other answer (401, 302 to a login page) goes to the client.' },
          { key: 'forward_auth.copy_headers', label: 'Headers copied from its 2xx', type: 'list', placeholder: 'Remote-User, Remote-Groups', show: (v) => isHttp(v) && answer(v) === 'origin' && !!v._fa_on,
            help: 'Added to the request sent to the origin; a client\'s own headers of these names are removed.' },
        ] : []),
        ...extraFields('Route', ['id', 'name', 'listener', 'listeners', 'origin', 'match', 'priority', 'forwarded', 'max_body_bytes', 'timeouts', 'redirect_https', 'hsts_max_age', 'access_list', 'rate_limit', 'request_id', 'forward_auth']),
      ];
    },
    // redirect, respond, rewrite: null when turned off (an object the
    // form emptied would lack its required member).
    body: (body, form, mode, item) => {
      const cur = form.current();
      const a = cur._answer || 'origin';
      const drop = (k) => { if (mode === 'edit' && item[k]) body[k] = null; else delete body[k]; };
      for (const k of ['redirect', 'respond']) if (a !== k) drop(k);
      if (a !== 'origin' || !body.rewrite || !body.rewrite.replace_prefix) drop('rewrite');
      if (!cur._compress) drop('compress');
      if (a !== 'origin' || !cur._fa_on) drop('forward_auth');
      // header rules: "Name: value" lines to objects; a merge patch
      // names what went away as null
      for (const [side] of HDR_SIDES) {
        for (const op of ['set', 'add']) {
          const now = parseHeaderLines(cur[`_${side}_${op}`] || '');
          const was = (item && item[`${side}_headers`] && item[`${side}_headers`][op]) || {};
          if (mode === 'edit') for (const k of Object.keys(was)) if (!(k in now)) now[k] = null;
          if (Object.keys(now).length === 0) continue;
          body[`${side}_headers`] = Object.assign(body[`${side}_headers`] || {}, { [op]: now });
        }
      }
      return body;
    },
  },

  origins: {
    title: 'Origins',
    one: 'origin',
    schema: 'Origin',
    intro: 'Groups of servers traffic is balanced over, and how the appliance talks to them.',
    columns: (refs, ctx) => [
      { label: 'Name', cell: (o) => h('a', { href: '#/origins/' + seg(o.name) }, o.name) },
      { label: 'Servers', cell: (o) => h('ul', { class: 'plain' }, (o.servers || []).map((s) => h('li', null, `${s.address}:${s.port}` + (s.weight && s.weight !== 1 ? ` ×${s.weight}` : ''),
        s.state && s.state !== 'active' ? [' ', badge(s.state, s.state === 'drain' ? 'warn' : 'bad')] : null))) },
      { label: 'Balance', cell: (o) => o.balance || 'round_robin' },
      { label: 'TLS to origin', cell: (o) => (o.tls && o.tls.enabled ? badge(o.tls.verify === false ? 'TLS, not verified' : 'TLS', o.tls.verify === false ? 'warn' : 'ok') : badge('plain', 'info')) },
      actions('origins', ctx),
    ],
    fields: (refs, mode, item) => {
      const tls = !!schemaProp('Origin', 'tls');
      const on = (v) => !!(v.tls && v.tls.enabled);
      const hc = (v) => !!v._health_check;
      return [
        { key: 'name', label: 'Name', required: true },
        { key: 'balance', label: 'Balancing', type: 'select', options: schemaEnum('Origin', 'balance', ['round_robin']), default: schemaDefault('Origin', 'balance', 'round_robin') },
        ...(schemaProp('Origin', 'hash_key') ? [{ key: 'hash_key', label: 'Hash on', placeholder: 'client_ip', show: (v) => v.balance === 'hash', help: 'client_ip, header:NAME, cookie:NAME or path: the same value reaches the same server.' }] : []),
        { key: 'servers', label: 'Servers', type: 'rows', min: 1, addLabel: 'Add server', newRow: { weight: schemaDefault('Server', 'weight', 1) },
          columns: [{ key: 'address', label: 'Address', placeholder: '127.0.0.1' }, { key: 'port', label: 'Port', type: 'number' }, { key: 'weight', label: 'Weight', type: 'number' },
            ...(schemaProp('Server', 'state') ? [{ key: 'state', label: 'State', type: 'select', options: schemaEnum('Server', 'state', ['active']), default: schemaDefault('Server', 'state', 'active') }] : [])] },
        ...(tls ? [
          { type: 'section', label: 'TLS to origin' },
          { key: 'tls.enabled', label: 'Encrypt traffic to these servers (TLS)', type: 'checkbox' },
          { key: 'tls.verify', label: "Verify the servers' certificates", type: 'checkbox', default: schemaDefault('Origin', 'tls.verify', true), show: on },
          { key: 'tls.ca', label: 'Trusted CA', type: 'select', empty: '(system trust store)', options: () => certOptions(refs, 'ca'), show: (v) => on(v) && v.tls.verify !== false },
          { key: 'tls.sni', label: 'Server name (SNI)', show: on, help: 'Sent and verified; empty: none is sent and the address is verified.' },
          { key: 'tls.client_certificate', label: 'Client certificate', type: 'select', empty: '(none)', options: () => certOptions(refs, 'leaf'), show: on },
        ] : []),
        ...(schemaProp('Origin', 'proxy_protocol') ? [
          { type: 'section', label: 'Layer 4' },
          { key: 'proxy_protocol', label: 'PROXY protocol header to the servers', type: 'select', number: true, default: String(schemaDefault('Origin', 'proxy_protocol', 0)),
            options: [{ value: '0', label: 'none' }, { value: '1', label: 'version 1 (text)' }, { value: '2', label: 'version 2 (binary)' }],
            help: 'On tcp and tls-passthrough routes: tells the servers the client address.' },
        ] : []),
        ...(schemaProp('Origin', 'health_check') ? [
          { type: 'section', label: 'Health check' },
          { key: '_health_check', noSend: true, type: 'checkbox', label: 'Check the servers actively (HTTP)', default: !!(item && item.health_check),
            help: 'Servers failing the check get no new requests unless every server fails.' },
          { key: 'health_check.path', label: 'Path', required: true, placeholder: '/healthz', show: hc, help: 'Requested from every server with the method below.' },
          { key: 'health_check.method', label: 'Method', type: 'select', options: schemaEnum('Origin', 'health_check.method', ['GET']), default: schemaDefault('Origin', 'health_check.method', 'GET'), show: hc },
          { key: 'health_check.host', label: 'Host header', placeholder: "the server's address", show: hc },
          numberField('Origin', 'health_check.interval_ms', 'Check every (ms)', { show: hc }),
          numberField('Origin', 'health_check.timeout_ms', 'Timeout (ms)', { show: hc, help: 'Shorter than the interval.' }),
          numberField('Origin', 'health_check.rise', 'Passes in a row to mark a server up', { show: hc }),
          numberField('Origin', 'health_check.fall', 'Failures in a row to mark a server down', { show: hc }),
          numberField('Origin', 'health_check.status_min', 'Passing status from', { show: hc }),
          numberField('Origin', 'health_check.status_max', 'Passing status to', { show: hc }),
        ] : []),
        ...extraFields('Origin', ['id', 'name', 'balance', 'hash_key', 'servers', 'tls', 'proxy_protocol', 'health_check']),
      ];
    },
    // health_check: null when the check is turned off, {} (the API names
    // what is missing) when it is on with every field empty.
    body: (body, form, mode, item) => {
      if (!schemaProp('Origin', 'health_check')) return body;
      if (!form.current()._health_check) {
        if (mode === 'edit' && item.health_check) body.health_check = null;
        else delete body.health_check;
      } else if (!body.health_check || typeof body.health_check !== 'object') {
        body.health_check = {};
      }
      return body;
    },
  },

  access_lists: {
    title: 'Access lists',
    one: 'access list',
    schema: 'AccessList',
    intro: 'Who may use a route: client addresses allowed or denied, and users with a password (HTTP basic auth). A route takes one on its page.',
    noRefs: true,
    columns: (refs, ctx) => [
      { label: 'Name', cell: (a) => h('a', { href: '#/access_lists/' + seg(a.name) }, a.name) },
      { label: 'Allow', cell: (a) => (a.allow || []).join(', ') || '—' },
      { label: 'Deny', cell: (a) => (a.deny || []).join(', ') || '—' },
      { label: 'Others', cell: (a) => a.default || 'deny' },
      { label: 'Users', cell: (a) => ((a.basic_auth && a.basic_auth.users) || []).map((u) => u.username).join(', ') || '—' },
      { label: 'Satisfy', cell: (a) => a.satisfy || 'any' },
      actions('access_lists', ctx),
    ],
    fields: (refs, mode) => [
      { key: 'name', label: 'Name', required: true },
      { key: 'allow', label: 'Allowed addresses', type: 'list', placeholder: '10.0.0.0/8, 2001:db8::/32', help: 'Addresses or CIDR blocks.' },
      { key: 'deny', label: 'Denied addresses', type: 'list', placeholder: '10.9.0.0/16', help: 'Refused (403) even when allowed above or with a password.' },
      { key: 'default', label: 'Other addresses', type: 'select', options: schemaEnum('AccessList', 'default', ['deny', 'allow']), default: schemaDefault('AccessList', 'default', 'deny') },
      { key: 'satisfy', label: 'Let in with', type: 'select', default: schemaDefault('AccessList', 'satisfy', 'any'),
        options: [{ value: 'any', label: 'an allowed address or a password' }, { value: 'all', label: 'an allowed address and a password' }] },
      { type: 'section', label: 'Users (basic auth)' },
      { key: 'basic_auth.realm', label: 'Realm', placeholder: schemaDefault('AccessList', 'basic_auth.realm', 'Restricted'), help: 'Shown by the browser when it asks for the password.' },
      { key: 'basic_auth.users', label: 'Users', type: 'rows', min: 0, addLabel: 'Add user',
        help: mode === 'edit' ? 'Passwords are stored hashed and never shown; leave one empty to keep it.' : 'Passwords are stored hashed and never shown.',
        columns: [{ key: 'username', label: 'User name' }, { key: 'password', label: 'Password', type: 'password', autocomplete: 'new-password' }] },
    ],
    // a blank row (the form shows one) is no user
    body: (body) => {
      const ba = body.basic_auth;
      if (ba && Array.isArray(ba.users)) ba.users = ba.users.filter((u) => u.username || u.password);
      return body;
    },
  },

  rate_limits: {
    title: 'Rate limits',
    one: 'rate limit',
    schema: 'RateLimit',
    intro: 'How many requests a client (or a header value, or a whole route) may make: a burst at once, then a steady rate. Over it: 429. A route takes one on its page.',
    noRefs: true,
    columns: (refs, ctx) => [
      { label: 'Name', cell: (l) => h('a', { href: '#/rate_limits/' + seg(l.name) }, l.name) },
      { label: 'Rate', cell: (l) => `${l.rate} per ${l.per || 'second'}` },
      { label: 'Burst', cell: (l) => String(l.burst || l.rate) },
      { label: 'Per', cell: (l) => l.key || 'client_ip' },
      actions('rate_limits', ctx),
    ],
    fields: () => [
      { key: 'name', label: 'Name', required: true },
      { key: 'rate', label: 'Requests', type: 'number', required: true },
      { key: 'per', label: 'Per', type: 'select', options: schemaEnum('RateLimit', 'per', ['second', 'minute', 'hour']), default: schemaDefault('RateLimit', 'per', 'second') },
      { key: 'burst', label: 'Burst', type: 'number', placeholder: 'the rate', help: 'Requests at once above the steady rate.' },
      { key: 'key', label: 'Counted per', placeholder: schemaDefault('RateLimit', 'key', 'client_ip'), help: 'client_ip, route (one bucket for everyone), or header:NAME (e.g. header:X-API-Key).' },
      numberField('RateLimit', 'max_keys', 'Keys kept', { help: 'Bounds memory (about 48 bytes each); the least recently seen key is dropped first.' }),
    ],
  },

  error_pages: {
    title: 'Error pages',
    one: 'error pages',
    schema: 'ErrorPages',
    intro: 'Your own pages for the answers the proxy makes itself (502 when no server answers, 503 in maintenance, 504 on a timeout, ...). A route takes a set on its page.',
    noRefs: true,
    columns: (refs, ctx) => [
      { label: 'Name', cell: (p) => h('a', { href: '#/error_pages/' + seg(p.name) }, p.name) },
      { label: 'Statuses', cell: (p) => Object.keys(p.pages || {}).join(', ') },
      { label: 'Origin errors', cell: (p) => (p.intercept ? 'replaced' : 'passed on') },
      actions('error_pages', ctx),
    ],
    fields: (refs, mode, item) => {
      if (item) for (const s of ERROR_STATUSES) item['_page_' + s] = (item.pages || {})[s];
      return [
        { key: 'name', label: 'Name', required: true },
        ...ERROR_STATUSES.map((s) => ({ key: '_page_' + s, noSend: true, type: 'textarea', rows: 4, label: `Page for ${s}`, placeholder: '<html>…</html>', file: true, accept: '.html,text/html' })),
        { key: 'intercept', label: "Replace the origin's own error answers too", type: 'checkbox' },
      ];
    },
    // pages: one textarea per status; a merge patch names removed ones as null
    body: (body, form, mode, item) => {
      const cur = form.current();
      const pages = {};
      for (const s of ERROR_STATUSES) {
        const v = cur['_page_' + s];
        if (v) pages[s] = v;
        else if (mode === 'edit' && item.pages && item.pages[s] !== undefined) pages[s] = null;
      }
      if (Object.keys(pages).length) body.pages = pages;
      return body;
    },
  },

  users: {
    title: 'Users',
    one: 'user',
    schema: 'User',
    intro: 'People who log in to this UI. Admins change everything; viewers only look.',
    noRefs: true,
    columns: (refs, ctx) => [
      { label: 'Name', cell: (u) => h('a', { href: '#/users/' + seg(u.name) }, u.name) },
      { label: 'Role', cell: (u) => u.role },
      { label: 'Created', cell: (u) => fmtTime(u.created_at) },
      actions('users', ctx),
    ],
    fields: (refs, mode) => [
      { key: 'name', label: 'Name', required: true, autocomplete: 'off' },
      { key: 'password', label: mode === 'edit' ? 'New password' : 'Password', type: 'password', autocomplete: 'new-password', required: mode !== 'edit',
        help: mode === 'edit' ? 'Leave empty to keep the current one. Changing it logs the user out elsewhere.' : PASSWORD_HELP },
      ...(mode === 'edit'
        ? [{ key: 'current_password', label: 'Your current password', type: 'password', autocomplete: 'current-password',
          help: 'Needed only to change your own password.' }]
        : []),
      { key: 'role', label: 'Role', type: 'select', options: schemaEnum('User', 'role', ['admin', 'viewer']), default: 'admin' },
    ],
  },

  tokens: {
    title: 'API tokens',
    one: 'token',
    schema: 'Token',
    intro: 'Bearer tokens for scripts and monitoring. A token is shown once, when it is made.',
    noRefs: true,
    columns: (refs, ctx) => [
      { label: 'Name', cell: (t) => h('a', { href: '#/tokens/' + seg(t.name) }, t.name) },
      { label: 'Role', cell: (t) => t.role },
      { label: 'Expires', cell: (t) => (t.expires_at ? fmtTime(t.expires_at) : 'never') },
      { label: 'Created', cell: (t) => fmtTime(t.created_at) },
      actions('tokens', ctx, 'Revoke'),
    ],
    fields: (refs, mode) => [
      { key: 'name', label: 'Name', required: true },
      { key: 'role', label: 'Role', type: 'select', options: schemaEnum('Token', 'role', ['viewer', 'admin']), default: 'viewer' },
      mode === 'edit'
        ? { key: 'expires_at', label: 'Expires (Unix seconds)', type: 'number', placeholder: 'never' }
        : { key: 'expires_in', label: 'Expires', type: 'select', number: true, empty: 'never', options: [
          { value: '86400', label: 'in 1 day' }, { value: '2592000', label: 'in 30 days' },
          { value: '7776000', label: 'in 90 days' }, { value: '31536000', label: 'in 1 year' }] },
    ],
  },
};

// A route's listeners: "listeners" when several, else its "listener".
export function routeListeners(r) {
  return r.listeners || (r.listener ? [r.listener] : []);
}

function matchText(r) {
  const m = r.match || {};
  const parts = [];
  if (m.sni && m.sni.length) parts.push('SNI ' + m.sni.join(', '));
  parts.push(m.hosts && m.hosts.length ? m.hosts.join(', ') : 'any host');
  if (m.path_prefix && m.path_prefix !== '/') parts.push(m.path_prefix);
  if (m.methods && m.methods.length) parts.push(m.methods.join(' '));
  return parts.join(' ');
}

function actions(coll, ctx, delLabel = 'Delete') {
  return { label: 'Actions', class: 'actions-col', cell: (it) => h('div', { class: 'row-actions' },
    h('a', { class: 'button secondary small', href: `#/${coll}/${seg(it.name)}`, 'aria-label': `${ctx.canWrite ? 'Edit' : 'View'} ${it.name}` }, ctx.canWrite ? 'Edit' : 'View'),
    ctx.canWrite ? h('button', { type: 'button', class: 'danger small', dataset: { del: it.name }, 'aria-label': `${delLabel} ${it.name}` }, delLabel) : null) };
}

export async function render(main, coll, rest, ctx) {
  if (rest.length) return renderEdit(main, coll, rest[0] === 'new' ? null : rest[0], ctx);
  const c = COLLECTIONS[coll];
  const [items, refs] = await Promise.all([PAGED.has(coll) ? null : api('GET', '/' + coll), c.noRefs ? Promise.resolve(null) : loadRefs()]);
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  const list = PAGED.has(coll) // list.js: search and pages
    ? await pagedTable(coll, c.title, c.columns(refs, ctx), `No ${coll} yet.`)
    : table(c.title, c.columns(refs, ctx), items, `No ${coll} yet.`);
  main.append(
    pageHead(c.title, ctx.canWrite ? h('a', { class: 'button primary', href: `#/${coll}/new` }, 'New ' + c.one) : null),
    h('p', { class: 'intro' }, c.intro),
    notice,
    list,
    ...(coll === 'routes' && hasPath('/explain') ? [explainPanel(refs.listeners)] : []));
  main.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-del]');
    if (!b) return;
    const name = b.dataset.del;
    const verb = coll === 'tokens' ? 'Revoke' : 'Delete';
    if (!(await confirmDialog(`${verb} ${c.one} “${name}”?`, coll === 'tokens' ? 'Scripts using it stop working at once.' : 'This takes effect at once and is recorded as a revision.', verb, true))) {
      b.focus();
      return;
    }
    try {
      const res = await api('DELETE', `/${coll}/${seg(name)}`, undefined, { full: true });
      toast(`${verb}d ${c.one} ${name}` + revText(res));
      ctx.go('#/' + coll);
    } catch (err) {
      notice.replaceChildren(errorBox(err));
      b.focus();
    }
  });
}

function revText(res) {
  const rev = res && res.headers && res.headers.get('X-Config-Revision');
  return rev ? ` — revision ${rev} is serving.` : '.';
}

// One click turns a route's maintenance mode on or off (503 for everyone
// but maintenance.allow).
function maintenanceToggle(item, name, ctx) {
  const on = !!item.maintenance.enabled;
  const btn = h('button', { type: 'button', class: on ? 'primary small' : 'danger small' }, on ? 'End maintenance' : 'Start maintenance');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const res = await api('PATCH', `/routes/${seg(name)}`, { maintenance: { enabled: !on } }, { full: true });
      toast(`Route ${name}: maintenance ${on ? 'ended' : 'started'}` + revText(res));
      ctx.go(`#/routes/${seg(name)}`);
    } catch (e) {
      btn.disabled = false;
      toast(String(e.message || e));
    }
  });
  return h('p', { class: 'maintenance' }, on ? badge('in maintenance', 'bad') : badge('serving', 'ok'), ' ',
    on ? 'Clients get 503 (except the allowed addresses). ' : '', btn);
}

async function renderEdit(main, coll, name, ctx) {
  const c = COLLECTIONS[coll];
  const mode = name === null ? 'new' : 'edit';
  const [item, refs] = await Promise.all([
    mode === 'edit' ? api('GET', `/${coll}/${seg(name)}`) : Promise.resolve({}),
    c.noRefs ? Promise.resolve(null) : loadRefs(),
  ]);
  if (coll === 'routes') item.listeners = routeListeners(item); // the form edits the list
  const form = buildForm({
    label: mode === 'new' ? 'New ' + c.one : 'Edit ' + c.one,
    mode,
    values: item,
    aliases: coll === 'routes' ? { listener: 'listeners' } : null,
    fields: c.fields(refs, mode, item),
    schema: c.schema,
    errorPrefix: [coll],
    submitLabel: mode === 'new' ? 'Create ' + c.one : 'Save changes',
    cancel: () => ctx.go('#/' + coll),
    onSubmit: async (f) => {
      let body = f.read(mode === 'edit');
      if (c.body) body = c.body(body, f, mode, item);
      const res = mode === 'new'
        ? await api('POST', '/' + coll, body, { full: true })
        : await api('PATCH', `/${coll}/${seg(name)}`, body, { full: true });
      toast(`Saved ${c.one} ${(res.data && res.data.name) || body.name || name}` + revText(res));
      if (coll === 'tokens' && res.data && res.data.token) {
        await revealDialog('Your new token', 'Copy it now: it is not shown again. Send it as Authorization: Bearer <token>.', res.data.token);
      }
      ctx.go('#/' + coll);
    },
  });
  if (!ctx.canWrite) for (const el of form.el.querySelectorAll('input, select, textarea, button[type=submit]')) el.disabled = true;
  const extra = [];
  // names link across pages: who uses this item, what this route uses
  if ((coll === 'origins' || coll === 'listeners') && mode === 'edit') {
    const uses = (r) => (coll === 'origins' ? r.origin === item.name : routeListeners(r).includes(item.name));
    const users = (await api('GET', '/routes')).filter(uses);
    extra.push(h('p', { class: 'used-by' }, users.length
      ? ['Used by ', users.length === 1 ? 'route ' : 'routes ', users.map((r, i) => [i ? ', ' : '', h('a', { href: '#/routes/' + seg(r.name) }, r.name)])]
      : `No route uses this ${c.one}.`));
  }
  if (coll === 'routes' && mode === 'edit') {
    const certs = [...new Set(routeListeners(item).map((n) => (refs.listenersByName.get(n) || {}).default_certificate).filter(Boolean))];
    extra.push(h('p', { class: 'used-by' }, item.origin ? ['Uses origin ', h('a', { href: '#/origins/' + seg(item.origin) }, item.origin), ', listener'] : 'Uses listener', item.listeners.length > 1 ? 's ' : ' ', item.listeners.map((n, i) => [i ? ', ' : '', h('a', { href: '#/listeners/' + seg(n) }, n)]),
      certs.length ? [', certificate ', certs.map((n, i) => [i ? ', ' : '', h('a', { href: '#/certificates' }, n)])] : null, '.'));
  }
  if (coll === 'routes' && mode === 'edit') {
    const p = refs.posture(item);
    extra.push(h('p', { class: 'posture ' + p.level }, badge(POSTURE_LABEL[p.level], POSTURE_KIND[p.level]), ' ', p.text,
      p.client ? ' Clients connect with TLS.' : ' Clients connect in the clear.'));
    if (item.maintenance && ctx.canWrite) extra.push(maintenanceToggle(item, name, ctx));
  }
  // admins see a route's recent requests, live (the logs are admins only)
  const panel = coll === 'routes' && mode === 'edit' && ctx.canWrite && hasPath('/logs/access') ? routePanel(item.name) : null;
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' + coll }, c.title), ' / ', mode === 'new' ? 'new' : name),
    pageHead(mode === 'new' ? 'New ' + c.one : `${c.one[0].toUpperCase() + c.one.slice(1)} ${name}`),
    ...extra,
    form.el,
    ...(panel ? [panel.el] : []));
  const first = form.el.querySelector('input:not([readonly]), select');
  if (first && mode === 'new') first.focus();
  return panel ? panel.stop : null;
}
