// acme.js: automatic certificates (ACME): the accounts (their keys are
// made by the appliance and never shown), a form to request a certificate
// for some names, and the "acme" part of a certificate's details (status,
// the CA's problem when it failed, next renewal) with "Renew now".

import { api, seg, hasPath } from '../api.js';
import { h, toast, pageHead, table, badge, errorBox } from '../ui.js';
import { buildForm } from '../form.js';

const STATUS_KIND = { valid: 'ok', pending: 'info', renewing: 'info', failed: 'bad' };

export function statusBadge(s, label) {
  return badge(label || s || 'unknown', STATUS_KIND[s] || 'info');
}

export function problemText(p) {
  if (!p) return '—';
  if (typeof p !== 'object') return String(p);
  const parts = [p.detail || p.title || p.type];
  if (p.step) parts.push(`(step: ${p.step})`);
  if (p.identifier) parts.push(`for ${p.identifier}`);
  if (p.challenge && p.challenge.type) parts.push(`challenge ${p.challenge.type}`);
  if (p.type && p.type !== 'about:blank') parts.push(`[${p.type}]`);
  return parts.join(' ');
}

function crumbs(last) {
  return h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/certificates' }, 'Certificates'), ' / ', last);
}

// #/certificates/acme: accounts and a request form.
export async function render(main, ctx) {
  const accounts = hasPath('/acme_accounts') ? await api('GET', '/acme_accounts') : [];
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  main.append(crumbs('ACME'), pageHead('Automatic certificates (ACME)'),
    h('p', { class: 'intro' },
      'Gatehouse obtains and renews certificates from an ACME CA (Let\u2019s Encrypt, ZeroSSL, a private CA). ',
      'For http-01 the names must reach an http listener on port 80; for tls-alpn-01 an https listener on port 443. Wildcards are not offered (they need DNS-01).'),
    notice,
    table('ACME accounts', [
      { label: 'Name', cell: (a) => a.name },
      { label: 'Directory', cell: (a) => h('code', { class: 'wrap' }, a.directory) },
      { label: 'Status', cell: (a) => statusBadge(a.status) },
      { label: 'Last error', cell: (a) => problemText(a.last_error) },
      { label: 'Used by', cell: (a) => (a.used_by && a.used_by.length ? a.used_by.join(', ') : '—') },
    ], accounts, 'No ACME account yet: add one below.'));
  if (!ctx.canWrite) return;
  const accForm = buildForm({
    label: 'Add an ACME account',
    submitLabel: 'Add account',
    errorPrefix: ['acme_accounts'],
    fields: [
      { key: 'name', label: 'Name', required: true, placeholder: 'le' },
      { key: 'directory', label: 'Directory URL', required: true, placeholder: 'https://…/directory',
        help: 'The CA\u2019s ACME directory; doc/tls.md gives Let\u2019s Encrypt\u2019s. The UI itself never contacts another host.' },
      { key: 'email', label: 'Contact e-mail', placeholder: 'ops@example.com' },
      { key: 'terms_agreed', label: 'I agree to the CA\u2019s terms of service', type: 'checkbox' },
      { type: 'section', label: 'External account binding and private CAs', fold: true },
      { key: 'eab.kid', label: 'EAB key id' },
      { key: 'eab.hmac_key', label: 'EAB MAC key (base64url)', type: 'password', help: 'Stored sealed, never shown again.' },
      { key: 'directory_ca', label: 'CA certificate of the directory (PEM)', type: 'textarea', rows: 4, file: true, help: 'Only for a private CA whose directory the system does not trust.' },
    ],
    onSubmit: async (f) => {
      const body = f.read();
      if (body.eab && !body.eab.kid && !body.eab.hmac_key) delete body.eab;
      if (!body.directory_ca) delete body.directory_ca;
      if (!body.email) delete body.email;
      await api('POST', '/acme_accounts', body);
      toast('Added ACME account ' + body.name + '; it registers in the background.');
      ctx.go('#/certificates/acme');
    },
  });
  const reqForm = buildForm({
    label: 'Request a certificate',
    submitLabel: 'Request',
    errorPrefix: ['certificates'],
    fields: [
      { key: 'name', label: 'Certificate name', required: true, placeholder: 'site' },
      { key: 'names', label: 'Host names', type: 'list', required: true, placeholder: 'app.example.com, www.example.com', help: 'Separate with commas or spaces. No wildcards.' },
      { key: 'account', label: 'Account', type: 'select', required: true, options: accounts.map((a) => a.name), default: accounts.length ? accounts[0].name : undefined },
      { key: 'challenge', label: 'Challenge', type: 'select', options: ['http-01', 'tls-alpn-01'], default: 'http-01' },
    ],
    onSubmit: async (f) => {
      const body = f.read();
      const res = await api('POST', '/certificates/acme', body);
      toast(`Requested ${res.name}: a placeholder serves until it is issued.`);
      ctx.go('#/certificates/' + seg(res.name));
    },
  });
  main.append(h('h2', null, 'Request a certificate'), reqForm.el, h('h2', null, 'Add an account'), accForm.el);
}

// The "acme" rows of a certificate's details, and a "Renew now" button.
export function details(c, ctx) {
  const a = c.acme;
  if (!a) return null;
  const row = (k, v) => [h('dt', null, k), h('dd', null, v)];
  const out = h('div', null, h('h2', null, 'ACME'),
    h('dl', { class: 'details' },
      row('Status', statusBadge(a.status)),
      row('Account', a.account || '—'),
      row('Challenge', a.challenge || '—'),
      row('Next renewal', a.next_renewal || '—'),
      row('Failed attempts in a row', String(a.attempts || 0)),
      a.attempts ? row('Next attempt', a.next_attempt || '—') : null,
      row('Last error', a.last_error ? h('span', { class: 'badge bad' }, problemText(a.last_error)) : '—')));
  if (ctx.canWrite) {
    const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
    const b = h('button', { type: 'button', class: 'secondary' }, 'Renew now');
    b.addEventListener('click', async () => {
      try {
        await api('POST', '/certificates/' + seg(c.name) + '/renew');
        toast('Renewal of ' + c.name + ' started.');
        ctx.go('#/certificates/' + seg(c.name));
      } catch (err) {
        notice.replaceChildren(errorBox(err));
      }
    });
    out.append(b, notice);
  }
  return out;
}
