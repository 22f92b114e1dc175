// backup.js: download an encrypted backup of the whole appliance
// (configuration, certificates with their keys, users, tokens, revisions)
// and restore one. The passphrase never leaves this page except to the
// appliance, in the request body (backup) or a header (restore).

import { apiBlob } from '../api.js';
import { h, toast, confirmDialog, pageHead, errorBox } from '../ui.js';

const MIN_PASS = 8;

function field(id, label, input, help) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, help ? h('p', { class: 'help' }, help) : null);
}

function saveBlob(blob, name) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function backupSection(ctx) {
  const out = h('div', { 'aria-live': 'polite', id: 'backup-result' });
  const pass = h('input', { type: 'password', id: 'backup-pass', autocomplete: 'new-password', minlength: MIN_PASS, required: true });
  const again = h('input', { type: 'password', id: 'backup-pass2', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'editor', id: 'backup-form' },
    field('backup-pass', 'Passphrase', pass, `At least ${MIN_PASS} characters. Without it the backup cannot be restored: keep it apart from the file.`),
    field('backup-pass2', 'Passphrase again', again),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', disabled: !ctx.canWrite }, 'Download backup')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    if (pass.value.length < MIN_PASS || pass.value !== again.value) {
      out.replaceChildren(h('p', { class: 'alert error', role: 'alert' }, pass.value.length < MIN_PASS ? `The passphrase needs at least ${MIN_PASS} characters.` : 'The two passphrases differ.'));
      (pass.value.length < MIN_PASS ? pass : again).focus();
      return;
    }
    try {
      const res = await apiBlob('POST', '/backup', { passphrase: pass.value });
      const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
      const name = m ? m[1] : 'gatehouse.ghbackup';
      saveBlob(await res.blob(), name);
      pass.value = again.value = '';
      toast(`Downloaded ${name}.`);
      out.replaceChildren(h('p', { class: 'alert info' }, `Saved ${name}: it holds private keys and password hashes, encrypted with your passphrase.`));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  return h('section', { class: 'panel' }, h('h2', null, 'Back up'),
    h('p', null, 'One encrypted file with everything: listeners, origins, routes, certificates and their keys, users, tokens and the revision history.'),
    form, out);
}

function restoreSection(ctx) {
  const out = h('div', { 'aria-live': 'polite', id: 'restore-result' });
  const file = h('input', { type: 'file', id: 'restore-file', accept: '.ghbackup,application/octet-stream' });
  const pass = h('input', { type: 'password', id: 'restore-pass', autocomplete: 'off', required: true });
  const form = h('form', { class: 'editor', id: 'restore-form' },
    field('restore-file', 'Backup file', file, 'Replaces the whole state with the backup’s. The current state is kept in a file next to the database first.'),
    field('restore-pass', 'Passphrase', pass),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger', disabled: !ctx.canWrite }, 'Restore')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    if (!file.files || !file.files[0]) {
      out.replaceChildren(h('p', { class: 'alert error', role: 'alert' }, 'Choose a backup file first.'));
      file.focus();
      return;
    }
    const ok = await confirmDialog('Restore this backup?', `Everything is replaced by the contents of ${file.files[0].name}, at once. Users and tokens too: you may have to log in again.`, 'Restore', true);
    if (!ok) return;
    try {
      const res = await apiBlob('POST', '/restore', file.files[0], { 'X-Backup-Passphrase': pass.value });
      const r = await res.json();
      pass.value = '';
      toast(`Restored: revision ${r.revision} is serving.`);
      out.replaceChildren(h('h2', null, `Restored as revision ${r.revision}`),
        h('p', null, 'The state before the restore is kept in ', h('code', null, r.previous_state), '.'));
    } catch (err) {
      if (err.status === 401) return;
      out.replaceChildren(errorBox(err));
    }
  });
  return h('section', { class: 'panel' }, h('h2', null, 'Restore'), form, out);
}

export async function render(main, rest, ctx) {
  main.append(pageHead('Backup / restore'), backupSection(ctx), restoreSection(ctx));
}
