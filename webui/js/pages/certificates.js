// certificates.js: the certificate store: list with expiry, details,
// upload of a PEM chain and key, self-signed generation, replace, delete.
// The private key goes up once and never comes back from the API.

import { api, seg, hasPath, schemaEnum, schemaProp } from '../api.js';
import { h, toast, confirmDialog, pageHead, table, badge, fmtTime, errorBox } from '../ui.js';
import { buildForm } from '../form.js';
import { certTime } from './dashboard.js';
import * as acme from './acme.js';

const DAY = 86400;

function left(c) {
  const d = Math.floor((certTime(c.not_after) - Date.now() / 1000) / DAY);
  if (!Number.isFinite(d)) return badge('unknown', 'info');
  if (d < 0) return badge('expired', 'bad');
  if (d < 30) return badge(`${d} days left`, d < 7 ? 'bad' : 'warn');
  return badge(`${d} days left`, 'ok');
}

function list(v) {
  return Array.isArray(v) ? v.join(', ') : v || '—';
}

export async function render(main, rest, ctx) {
  if (!hasPath('/certificates')) {
    main.append(pageHead('Certificates'), h('p', null, 'This daemon has no certificate store.'));
    return;
  }
  if (rest[0] === 'upload') return renderUpload(main, ctx, null);
  if (rest[0] === 'self-signed') return renderSelfSigned(main, ctx);
  if (rest[0] === 'acme' && hasPath('/certificates/acme')) return acme.render(main, ctx);
  if (rest[0]) return renderDetails(main, rest[0], ctx);
  const certs = await api('GET', '/certificates');
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  main.append(
    pageHead('Certificates',
      ctx.canWrite ? h('a', { class: 'button primary', href: '#/certificates/upload' }, 'Upload certificate') : null,
      ctx.canWrite && hasPath('/certificates/self-signed') ? h('a', { class: 'button secondary', href: '#/certificates/self-signed' }, 'Generate self-signed') : null,
      hasPath('/certificates/acme') ? h('a', { class: 'button secondary', href: '#/certificates/acme' }, 'Automatic (ACME)') : null),
    h('p', { class: 'intro' }, 'Certificates for HTTPS listeners and for TLS to origins. Private keys are never shown.'),
    notice,
    table('Certificates', [
      { label: 'Name', cell: (c) => h('span', null, h('a', { href: '#/certificates/' + seg(c.name) }, c.name), c.acme ? [' ', acme.statusBadge(c.acme.status, 'ACME ' + c.acme.status)] : null) },
      { label: 'Names (SANs)', cell: (c) => list(c.sans) },
      { label: 'Issuer', cell: (c) => c.issuer || '—' },
      { label: 'Expires', cell: (c) => h('span', null, fmtTime(certTime(c.not_after)), ' ', left(c)) },
      { label: 'Key', cell: (c) => (c.kind === 'ca' ? h('span', null, c.key_type || '', ' ', badge('CA', 'info')) : c.key_type || '—') },
      { label: 'Used by', cell: (c) => (Array.isArray(c.used_by) && c.used_by.length ? c.used_by.join(', ') : '—') },
      { label: 'Actions', class: 'actions-col', cell: (c) => h('div', { class: 'row-actions' },
        h('a', { class: 'button secondary small', href: '#/certificates/' + seg(c.name), 'aria-label': 'Details of ' + c.name }, 'Details'),
        ctx.canWrite ? h('button', { type: 'button', class: 'danger small', dataset: { del: c.name }, 'aria-label': 'Delete ' + c.name }, 'Delete') : null) },
    ], certs, 'No certificates yet.'));
  main.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-del]');
    if (!b) return;
    const name = b.dataset.del;
    if (!(await confirmDialog(`Delete certificate “${name}”?`, 'Its key is deleted too.', 'Delete', true))) return;
    try {
      await api('DELETE', '/certificates/' + seg(name));
      toast('Deleted certificate ' + name + '.');
      ctx.go('#/certificates');
    } catch (err) {
      notice.replaceChildren(errorBox(err));
    }
  });
}

// "listeners/NAME", "origins/NAME" -> links to those items.
function usedLinks(used) {
  return h('ul', { class: 'plain' }, used.map((u) => {
    const m = typeof u === 'string' ? u.match(/^(listeners|origins|routes)\/(.+)$/) : null;
    return h('li', null, m ? h('a', { href: `#/${m[1]}/${seg(m[2])}` }, u) : String(typeof u === 'string' ? u : JSON.stringify(u)));
  }));
}

function crumbs(last) {
  return h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/certificates' }, 'Certificates'), ' / ', last);
}

async function renderDetails(main, name, ctx) {
  const c = await api('GET', '/certificates/' + seg(name));
  const row = (k, v) => [h('dt', null, k), h('dd', null, v)];
  const used = c.used_by || c.users || null;
  main.append(crumbs(name), pageHead('Certificate ' + name),
    h('dl', { class: 'details' },
      row('Subject', c.subject || '—'),
      row('Names (SANs)', list(c.sans)),
      row('Issuer', c.issuer || '—'),
      row('Valid from', fmtTime(certTime(c.not_before))),
      row('Valid until', h('span', null, fmtTime(certTime(c.not_after)), ' ', left(c))),
      row('Key type', c.key_type || '—'),
      row('SHA-256 fingerprint', h('code', { class: 'wrap' }, c.fingerprint_sha256 || '—')),
      row('Kind', c.kind === 'ca' ? 'CA certificate (no key): verifies origins and client certificates' : 'Certificate with its private key'),
      row('Used by', used && used.length ? usedLinks(used) : 'nothing yet'),
      c.warning ? row('Warning', h('span', { class: 'badge warn' }, c.warning)) : null));
  if (c.acme) main.append(acme.details(c, ctx));
  if (ctx.canWrite && hasPath('/certificates/{id}', 'PUT')) {
    main.append(h('h2', null, 'Replace'), h('p', { class: 'help' }, 'New handshakes get the new certificate; open connections keep working.'));
    await renderUpload(main, ctx, c);
  }
}

function renderUpload(main, ctx, existing) {
  const form = buildForm({
    label: existing ? 'Replace certificate' : 'Upload certificate',
    submitLabel: existing ? 'Replace' : 'Upload',
    mode: existing ? 'edit' : 'new',
    values: existing ? { name: existing.name } : {},
    errorPrefix: ['certificates'],
    cancel: () => ctx.go('#/certificates'),
    fields: [
      { key: 'name', label: 'Name', required: true, readonlyOnEdit: true },
      { key: 'certificate', label: 'Certificate chain (PEM)', type: 'textarea', file: true, accept: '.pem,.crt,.cer', rows: 8, required: true, placeholder: '-----BEGIN CERTIFICATE-----', help: 'The leaf first, then intermediates.' },
      { key: 'private_key', label: 'Private key (PEM)', type: 'textarea', file: true, accept: '.pem,.key', rows: 6, placeholder: '-----BEGIN PRIVATE KEY-----',
        help: 'Leave it empty for a CA certificate, used to verify origins or client certificates.' },
    ],
    onSubmit: async (f) => {
      const body = f.read();
      if (existing) body.name = existing.name;
      const res = existing
        ? await api('PUT', '/certificates/' + seg(existing.name), body)
        : await api('POST', '/certificates', body);
      toast(`Saved certificate ${res.name || body.name}` + (res.warning ? ` (warning: ${res.warning})` : '.'), res.warning ? 'warn' : 'ok');
      ctx.go('#/certificates/' + seg(res.name || body.name));
    },
  });
  if (!existing) main.append(crumbs('upload'), pageHead('Upload a certificate'));
  main.append(form.el);
}

function renderSelfSigned(main, ctx) {
  const keyTypes = schemaEnum('SelfSigned', 'key_type', null) || (schemaProp('SelfSignedCertificate', 'key_type') || {}).enum || null;
  const form = buildForm({
    label: 'Generate a self-signed certificate',
    submitLabel: 'Generate',
    errorPrefix: ['certificates'],
    cancel: () => ctx.go('#/certificates'),
    fields: [
      { key: 'name', label: 'Name', required: true },
      { key: 'names', label: 'Host names', type: 'list', required: true, placeholder: 'a.test, *.a.test', help: 'Separate with commas or spaces; wildcards allowed.' },
      { key: 'days', label: 'Valid for (days)', type: 'number', placeholder: '90' },
      ...(keyTypes ? [{ key: 'key_type', label: 'Key type', type: 'select', empty: '(default)', options: keyTypes }] : []),
    ],
    onSubmit: async (f) => {
      const body = f.read();
      const res = await api('POST', '/certificates/self-signed', body);
      toast(`Generated certificate ${res.name || body.name}.`);
      ctx.go('#/certificates/' + seg(res.name || body.name));
    },
  });
  main.append(crumbs('self-signed'), pageHead('Generate a self-signed certificate'),
    h('p', { class: 'intro' }, 'For tests and internal names: browsers will warn about it.'), form.el);
}
