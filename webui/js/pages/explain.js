// explain.js: the "test a request" panel of the routes page. It asks
// POST /api/v1/explain which route a request would match, which policies
// apply and what the answer would be; nothing is sent to an origin.

import { api } from '../api.js';
import { h, errorBox } from '../ui.js';

let seq = 0;

function field(label, input, help) {
  const id = 'explain-' + input.name + '-' + seq;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, help ? h('p', { class: 'help' }, help) : null);
}

// btoa() wants Latin-1: encode the credentials as UTF-8 first.
function basic(user, pass) {
  const bytes = new TextEncoder().encode(user + ':' + pass);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return 'Basic ' + btoa(bin);
}

export function explainPanel(listeners) {
  seq++;
  const http = listeners.filter((l) => ['http', 'https'].includes(l.protocol || 'http'));
  const lsel = h('select', { name: 'listener' }, http.map((l) => h('option', { value: l.name }, l.name)));
  const method = h('input', { name: 'method', value: 'GET', autocomplete: 'off' });
  const host = h('input', { name: 'host', placeholder: 'app.example', autocomplete: 'off' });
  const path = h('input', { name: 'path', value: '/', autocomplete: 'off' });
  const ip = h('input', { name: 'client_ip', value: '127.0.0.1', autocomplete: 'off' });
  const xff = h('input', { name: 'xff', placeholder: '(none)', autocomplete: 'off' });
  const user = h('input', { name: 'user', autocomplete: 'off' });
  const pass = h('input', { name: 'pass', type: 'password', autocomplete: 'new-password' });
  const out = h('div', { class: 'explain-out', 'aria-live': 'polite' });
  const form = h('form', { class: 'explain', novalidate: true },
    field('Listener', lsel), field('Method', method), field('Host', host), field('Path', path),
    field('Client address', ip), field('X-Forwarded-For', xff, 'Counts when the client address is a trusted proxy of the listener.'),
    field('User', user), field('Password', pass, 'Sent as basic auth; verified, never stored.'),
    h('button', { type: 'submit', class: 'primary' }, 'Test request'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const headers = {};
    if (xff.value.trim()) headers['X-Forwarded-For'] = xff.value.trim();
    if (user.value) headers.Authorization = basic(user.value, pass.value);
    const body = { listener: lsel.value, method: method.value.trim() || 'GET', host: host.value.trim(), path: path.value.trim() || '/', client_ip: ip.value.trim(), headers };
    try {
      const r = await api('POST', '/explain', body);
      const pol = r.policies || {};
      const rows = [
        ['Decision', `${r.status} ${r.decision}`],
        ['Why', r.reason],
        ['Route', r.route || '(none)'],
        ['Origin', r.origin || '—'],
        ['Client', r.client_ip],
      ];
      if (pol.access_list) rows.push(['Access list', `${pol.access_list.name}: ${pol.access_list.result}`]);
      if (r.user) rows.push(['User', r.user]);
      if (pol.rate_limit) rows.push(['Rate limit', `${pol.rate_limit.name}: ${pol.rate_limit.remaining} left` + (pol.rate_limit.retry_after ? `, retry after ${pol.rate_limit.retry_after} s` : '')]);
      if (pol.redirect_https) rows.push(['Redirect', 'to https://']);
      if (pol.forward_auth) rows.push(['Forward auth', `${pol.forward_auth.origin} ${pol.forward_auth.path}` + (pol.forward_auth.copy_headers.length ? `, copies ${pol.forward_auth.copy_headers.join(', ')}` : '')]);
      out.replaceChildren(h('dl', { class: 'explain-result' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', { dataset: { key: k.toLowerCase() } }, v)])));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  return h('section', { class: 'panel' }, h('h2', null, 'Test a request'),
    h('p', { class: 'help' }, 'Which route a request would take and what the answer would be. Nothing is sent to an origin.'),
    form, out);
}
