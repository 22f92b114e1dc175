// cert_attention.js: the dashboard's "Certificates needing attention":
// every certificate whose ACME order failed (with the CA's problem, the
// failed attempts in a row and the next try) and every certificate that
// has expired or expires within ATTENTION_DAYS, whether ACME renews it or
// not. Failures first, then by expiry. The same facts are in /metrics
// (gatehouse_acme_failures, gatehouse_certificate_expiry_seconds).

import { hasPath } from '../api.js';
import { h, table, badge, fmtTime } from '../ui.js';
import { statusBadge, problemText } from './acme.js';

export const ATTENTION_DAYS = 30;
const DAY = 86400;

const when = (v) => (typeof v === 'number' ? v : Date.parse(v) / 1000);

// [{c, failed, days}] of the certificates that need attention at <now>
// (Unix seconds); days is NaN when the certificate has no expiry.
export function needsAttention(certs, now) {
  const out = [];
  for (const c of certs) {
    const failed = !!(c.acme && c.acme.status === 'failed');
    const days = (when(c.not_after) - now) / DAY;
    if (failed || days < ATTENTION_DAYS) out.push({ c, failed, days });
  }
  return out.sort((a, b) => (b.failed - a.failed) || (a.days - b.days));
}

function expiry(x) {
  if (!Number.isFinite(x.days)) return '—';
  const d = Math.floor(x.days);
  const left = d < 0 ? badge('expired', 'bad') : x.days < ATTENTION_DAYS ? badge(d + ' days left', d < 7 ? 'bad' : 'warn') : null;
  return h('span', null, fmtTime(when(x.c.not_after)), left ? ' ' : null, left);
}

function problem(x) {
  const a = x.c.acme;
  if (x.failed) {
    return h('span', { class: 'cert-problem' }, statusBadge('failed', 'ACME failed'), ' ', problemText(a.last_error),
      a.attempts ? h('span', { class: 'muted' }, ` — ${a.attempts} failed attempt${a.attempts === 1 ? '' : 's'} in a row` +
        (a.next_attempt ? `, next try ${fmtTime(when(a.next_attempt))}` : '')) : null);
  }
  if (a) return h('span', null, statusBadge(a.status, 'ACME ' + a.status), a.next_renewal ? ` renews ${fmtTime(when(a.next_renewal))}` : '');
  return h('span', { class: 'muted' }, 'Not renewed automatically: upload a new one');
}

export function renderCertAttention(box, certs) {
  if (!hasPath('/certificates')) {
    box.replaceChildren(h('p', { class: 'muted' }, 'This daemon has no certificate store.'));
    return;
  }
  box.replaceChildren(table('Certificates needing attention', [
    { label: 'Certificate', cell: (x) => h('a', { href: '#/certificates/' + encodeURIComponent(x.c.name) }, x.c.name) },
    { label: 'Problem', cell: problem },
    { label: 'Expires', cell: expiry },
  ], needsAttention(certs, Date.now() / 1000),
  `None: no ACME order has failed and every certificate is valid for more than ${ATTENTION_DAYS} days.`));
}
