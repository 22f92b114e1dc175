// revisions.js: the configuration history: list, diff between any two
// revisions, restore (a new revision) after a confirmation that shows what
// would change.

import { api } from '../api.js';
import { h, toast, confirmDialog, pageHead, table, fmtTime, errorBox } from '../ui.js';

const PAGE = 50;

function show(v) {
  if (v === undefined) return null;
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v, null, 2);
  return h('pre', { class: 'json' }, s);
}

export function renderChanges(changes) {
  if (!changes || !changes.length) return h('p', { class: 'empty' }, 'No differences.');
  return h('ol', { class: 'changes' }, changes.map((c) => h('li', { class: 'change ' + c.op },
    h('div', { class: 'change-head' }, h('span', { class: 'op badge ' + ({ add: 'ok', remove: 'bad', replace: 'warn' }[c.op] || 'info') }, c.op), ' ', h('code', null, c.path)),
    c.op !== 'add' && c.old !== undefined ? h('div', { class: 'old' }, h('span', { class: 'sr-only' }, 'Before: '), show(c.old)) : null,
    c.op !== 'remove' && c.new !== undefined ? h('div', { class: 'new' }, h('span', { class: 'sr-only' }, 'After: '), show(c.new)) : null)));
}

export async function render(main, rest, ctx) {
  let revs = await api('GET', `/revisions?limit=${PAGE}`);
  const latest = revs.length ? revs[0].revision : 0;
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  const from = h('select', { id: 'diff-from' });
  const to = h('select', { id: 'diff-to' });
  const diffOut = h('section', { class: 'panel diff', 'aria-live': 'polite', id: 'diff-out' });
  const tableBox = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: revs.length < PAGE }, 'Older revisions');

  function fillSelects() {
    const keepF = from.value, keepT = to.value;
    from.replaceChildren(...revs.map((r) => h('option', { value: r.revision }, `${r.revision} — ${r.summary || ''}`)));
    to.replaceChildren(...revs.map((r) => h('option', { value: r.revision }, `${r.revision} — ${r.summary || ''}`)));
    to.value = keepT || String(latest);
    from.value = keepF || String(revs.length > 1 ? revs[1].revision : latest);
  }

  async function diff(a, b) {
    diffOut.replaceChildren(h('p', null, 'Loading…'));
    try {
      const d = await api('GET', `/revisions/${b}/diff?against=${a}`);
      diffOut.replaceChildren(h('h2', null, `Changes from revision ${a} to ${b}`), renderChanges(d.changes));
    } catch (err) {
      diffOut.replaceChildren(errorBox(err));
    }
  }

  async function restore(n, button) {
    let preview;
    try {
      const d = await api('GET', `/revisions/${n}/diff?against=${latest}`);
      preview = h('div', null, h('p', null, `This makes revision ${n}'s configuration the current one, as a new revision. These changes take effect at once:`), h('div', { class: 'dialog-scroll' }, renderChanges(d.changes)));
    } catch {
      preview = h('p', null, `This makes revision ${n}'s configuration the current one, as a new revision.`);
    }
    if (!(await confirmDialog(`Restore revision ${n}?`, preview, 'Restore', true))) {
      button.focus();
      return;
    }
    try {
      const r = await api('POST', `/revisions/${n}/restore`);
      toast(`Restored revision ${n}: revision ${r.revision} is serving.`);
      ctx.go('#/revisions');
    } catch (err) {
      notice.replaceChildren(errorBox(err));
    }
  }

  function drawTable() {
    tableBox.replaceChildren(table('Revisions', [
      { label: 'Revision', class: 'num', cell: (r) => String(r.revision) },
      { label: 'When', cell: (r) => fmtTime(r.created_at) },
      { label: 'Who', cell: (r) => r.actor || '—' },
      { label: 'From', cell: (r) => r.client || '—' },
      { label: 'Summary', cell: (r) => r.summary || '' },
      { label: 'Actions', class: 'actions-col', cell: (r) => h('div', { class: 'row-actions' },
        r.revision > 1 ? h('button', { type: 'button', class: 'secondary small', dataset: { diff: r.revision }, 'aria-label': `Changes in revision ${r.revision}` }, 'Changes') : null,
        ctx.canWrite && r.revision !== latest ? h('button', { type: 'button', class: 'danger small', dataset: { restore: r.revision }, 'aria-label': `Restore revision ${r.revision}` }, 'Restore') : null) },
    ], revs, 'No changes have been made yet.'));
  }

  main.append(...[pageHead('Revisions'),
    h('p', { class: 'intro' }, 'Every configuration change is a revision. Compare any two, or go back to one.'),
    notice,
    revs.length > 1 ? h('form', { class: 'compare', id: 'compare' },
      h('label', { for: 'diff-from' }, 'Compare revision'), from,
      h('label', { for: 'diff-to' }, 'with'), to,
      h('button', { type: 'submit', class: 'primary' }, 'Show differences')) : null,
    diffOut, tableBox, more].filter(Boolean));
  fillSelects();
  drawTable();
  diffOut.hidden = true;

  const cmp = main.querySelector('#compare');
  if (cmp) cmp.addEventListener('submit', (ev) => {
    ev.preventDefault();
    diffOut.hidden = false;
    diff(from.value, to.value);
  });
  main.addEventListener('click', (ev) => {
    const d = ev.target.closest('button[data-diff]');
    if (d) {
      const n = Number(d.dataset.diff);
      diffOut.hidden = false;
      from.value = String(n - 1);
      to.value = String(n);
      diff(n - 1, n);
      diffOut.scrollIntoView({ block: 'nearest' });
      return;
    }
    const r = ev.target.closest('button[data-restore]');
    if (r) restore(Number(r.dataset.restore), r);
  });
  more.addEventListener('click', async () => {
    const older = await api('GET', `/revisions?limit=${PAGE}&before=${revs[revs.length - 1].revision}`);
    revs = revs.concat(older);
    more.hidden = older.length < PAGE;
    fillSelects();
    drawTable();
  });
}
