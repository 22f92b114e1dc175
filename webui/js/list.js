// list.js: a collection's list with search and paging, for the API's
// ?q=, ?limit= and ?after= (doc/api.md, "Paging and search"). The table
// shows one page of PAGE items; Next follows X-Next-After, Previous goes
// back through the cursors already seen; typing in the search box asks
// the API again from the first page. Collections the API does not page
// are shown whole by the caller.

import { api } from './api.js';
import { h, table } from './ui.js';

export const PAGED = new Set(['listeners', 'origins', 'routes']);
export const PAGE = 50;

// Resolves to the element holding the search box, the table and the pager,
// once the first page is shown. columns: as for ui.table().
export async function pagedTable(coll, caption, columns, empty) {
  const search = h('input', { type: 'search', class: 'list-search', placeholder: 'Search by name or host',
    'aria-label': `Search ${coll} by name or host`, autocomplete: 'off' });
  const status = h('span', { class: 'list-status muted', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'secondary small' }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary small' }, 'Next');
  const pager = h('div', { class: 'pager' }, prev, next);
  const tools = h('div', { class: 'list-tools' }, search, ' ', status);
  const body = h('div', { class: 'list-body' });
  const el = h('div', { class: 'paged-list' }, tools, body, pager);
  const cursors = ['']; // cursors[i]: the after= of page i
  let page = 0, seq = 0;

  async function load() {
    const mine = ++seq;
    const q = search.value.trim();
    const qs = new URLSearchParams({ limit: String(PAGE) });
    if (cursors[page]) qs.set('after', cursors[page]);
    if (q) qs.set('q', q);
    const res = await api('GET', `/${coll}?${qs}`, undefined, { full: true });
    if (mine !== seq) return; // a newer search answered first
    const total = Number(res.headers.get('X-Total-Count') || res.data.length);
    const after = res.headers.get('X-Next-After');
    if (after) cursors[page + 1] = after;
    body.replaceChildren(table(caption, columns, res.data, q ? `No ${coll} match “${q}”.` : empty));
    const from = res.data.length ? page * PAGE + 1 : 0;
    status.textContent = `${from}–${page * PAGE + res.data.length} of ${total}`;
    prev.disabled = page === 0;
    next.disabled = !after;
    pager.hidden = page === 0 && !after;
    tools.hidden = !q && total === 0;
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      page = 0;
      cursors.length = 1;
      load();
    }, 250);
  });
  prev.addEventListener('click', () => {
    if (page > 0) {
      page--;
      load();
    }
  });
  next.addEventListener('click', () => {
    if (cursors[page + 1]) {
      page++;
      load();
    }
  });
  await load();
  return el;
}
