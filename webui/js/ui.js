// ui.js: DOM helpers, toasts, dialogs and formatting. Nothing is parsed as HTML:
// everything the API says is set as text.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let toastTimer = null;
export function toast(message, kind = 'ok') {
  const t = document.getElementById('toast');
  clear(t);
  t.className = 'toast show ' + kind;
  t.appendChild(document.createTextNode(message));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    t.className = 'toast';
  }, 5000);
}

// A modal <dialog>; resolves true when confirmed. Escape cancels.
export function confirmDialog(title, body, confirmLabel = 'Confirm', danger = false) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'submit', class: danger ? 'danger' : 'primary', value: 'ok' }, confirmLabel);
    const cancel = h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel');
    const dlg = h('dialog', { class: 'modal', 'aria-labelledby': 'dlg-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dlg-title' }, title),
        typeof body === 'string' ? h('p', null, body) : body,
        h('div', { class: 'actions' },
          cancel,
          ok)));
    document.body.appendChild(dlg);
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    dlg.showModal();
    // a destructive answer needs a deliberate choice: Enter keeps things as they are
    (danger ? cancel : ok).focus();
  });
}

// Shows a value once (a new token), with a copy button.
export function revealDialog(title, text, value) {
  return new Promise((resolve) => {
    const field = h('input', { type: 'text', readonly: true, class: 'secret', 'aria-label': title, value });
    const copy = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(value);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Select and copy';
      }
    } }, 'Copy');
    const dlg = h('dialog', { class: 'modal', 'aria-labelledby': 'dlg-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dlg-title' }, title),
        h('p', null, text),
        h('div', { class: 'row' }, field, copy),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Done'))));
    document.body.appendChild(dlg);
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve();
    });
    dlg.showModal();
    field.focus();
    field.select();
  });
}

export function fmtTime(unix) {
  if (unix === null || unix === undefined) return '—';
  const d = new Date(unix * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
}

export function fmtNum(n, digits = 1) {
  if (!Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(digits);
}

export function fmtDuration(s) {
  if (!Number.isFinite(s)) return '—';
  s = Math.floor(s);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

// A page heading with optional action buttons.
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, title), h('div', { class: 'actions' }, actions));
}

export function badge(text, kind) {
  return h('span', { class: 'badge ' + kind }, text);
}

// A table; columns: [{label, cell(item) -> Node|string, class}]
export function table(caption, columns, items, empty = 'Nothing here yet.') {
  if (!items.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', null,
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', null, items.map((it) => h('tr', null, columns.map((c, i) => {
        const v = c.cell(it);
        const attrs = { class: c.class, 'data-label': c.label };
        return i === 0 ? h('th', Object.assign({ scope: 'row' }, attrs), v) : h('td', attrs, v);
      }))))));
}

export function errorBox(err) {
  const box = h('div', { class: 'alert error', role: 'alert' }, h('strong', null, err.problem && err.problem.title ? err.problem.title + ': ' : 'Error: '), err.message);
  return box;
}
