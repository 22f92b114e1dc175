// config.js: export the whole configuration as a JSON file and import one:
// the file is checked with /config/validate first, the changes are shown,
// and PUT /config applies it in one transaction (If-Match: the revision
// the preview was made against).

import { api } from '../api.js';
import { h, toast, confirmDialog, pageHead, errorBox } from '../ui.js';
import { renderChanges } from './revisions.js';

export async function render(main, rest, ctx) {
  const out = h('div', { 'aria-live': 'polite', id: 'import-result' });
  const file = h('input', { type: 'file', id: 'import-file', accept: '.json,application/json' });
  const exportBtn = h('button', { type: 'button', class: 'primary', id: 'export' }, 'Download configuration');
  const importBtn = h('button', { type: 'submit', class: 'primary', disabled: !ctx.canWrite }, 'Check and import');

  exportBtn.addEventListener('click', async () => {
    try {
      const res = await api('GET', '/config', undefined, { full: true });
      const rev = (res.headers.get('ETag') || '').replace(/"/g, '') || 'current';
      const blob = new Blob([JSON.stringify(res.data, null, 2) + '\n'], { type: 'application/json' });
      const a = h('a', { href: URL.createObjectURL(blob), download: `gatehouse-config-r${rev}.json` });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      toast(`Downloaded revision ${rev}.`);
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });

  const form = h('form', { class: 'editor', id: 'import-form' },
    h('div', { class: 'field' }, h('label', { for: 'import-file' }, 'Configuration file (JSON)'), file,
      h('p', { class: 'help' }, 'Replaces listeners, origins and routes with the file’s: what is not in it is deleted. Certificates’ keys, users and tokens are not part of it.')),
    h('div', { class: 'actions' }, importBtn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    if (!file.files || !file.files[0]) {
      out.replaceChildren(h('p', { class: 'alert error', role: 'alert' }, 'Choose a file first.'));
      file.focus();
      return;
    }
    let doc;
    try {
      doc = JSON.parse(await file.files[0].text());
    } catch (e) {
      out.replaceChildren(h('p', { class: 'alert error', role: 'alert' }, 'That file is not JSON: ' + e.message));
      return;
    }
    try {
      const cur = await api('GET', '/config', undefined, { full: true });
      const etag = cur.headers.get('ETag');
      const v = await api('POST', '/config/validate', doc);
      if (!v.changes || !v.changes.length) {
        out.replaceChildren(h('p', { class: 'alert info' }, 'The file matches the current configuration: nothing to do.'));
        return;
      }
      const ok = await confirmDialog('Import this configuration?', h('div', null, h('p', null, `${v.changes.length} change(s) take effect at once:`), h('div', { class: 'dialog-scroll' }, renderChanges(v.changes))), 'Import', true);
      if (!ok) return;
      const r = await api('PUT', '/config', doc, { ifMatch: etag });
      toast(`Imported: revision ${r.revision} is serving.`);
      out.replaceChildren(h('h2', null, `Imported as revision ${r.revision}`), renderChanges(r.changes));
    } catch (err) {
      const box = errorBox(err);
      if (err.fieldErrors && err.fieldErrors.length) box.append(h('ul', null, err.fieldErrors.map((e) => h('li', null, h('code', null, e.field), ': ', e.message))));
      if (err.status === 412) box.append(h('p', null, 'The configuration changed meanwhile: check the file again.'));
      out.replaceChildren(box);
    }
  });

  main.append(pageHead('Import / export'),
    h('section', { class: 'panel' }, h('h2', null, 'Export'), h('p', null, 'The whole configuration (listeners, origins, routes) as one JSON file. Private keys are never in it.'), exportBtn),
    h('section', { class: 'panel' }, h('h2', null, 'Import'), form, out));
}
