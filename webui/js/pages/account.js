// account.js: the login page and the password change (forced on the
// first login with the generated admin password).

import { api, seg, ApiError } from '../api.js';
import { h, toast } from '../ui.js';
import { buildForm } from '../form.js';

export function renderLogin(main, ctx, message) {
  const form = buildForm({
    label: 'Log in',
    submitLabel: 'Log in',
    fields: [
      { key: 'username', label: 'User name', autocomplete: 'username', required: true },
      { key: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true },
    ],
    onSubmit: async (f) => {
      const b = f.read();
      const s = await api('POST', '/session', { username: b.username || '', password: b.password || '' }, { quiet401: true })
        .catch((err) => {
          if (err.status === 401 || err.status === 429) throw new ApiError(err.status, { detail: err.message, errors: [{ field: 'password', message: err.message }] });
          throw err;
        });
      await ctx.login(Object.assign({ via: 'session' }, s));
    },
  });
  main.append(h('section', { class: 'login-box' },
    h('h1', { tabindex: '-1' }, 'Gatehouse'),
    h('p', { class: 'muted' }, 'Log in to manage this appliance.'),
    message ? h('p', { class: 'alert info', role: 'status' }, message) : null,
    form.el,
    h('p', { class: 'help' }, 'First start: user admin; the password is in the file admin-password next to the database.')));
  const first = main.querySelector('input');
  if (first) first.focus();
}

// What the daemon's password policy asks (api/api_passwd.c).
export const PASSWORD_HELP = '12 characters or more (or 3 words or more); not your user name, not a common password.';

export function renderPassword(main, ctx) {
  const forced = !!ctx.session.must_change_password;
  const user = ctx.session.user;
  const form = buildForm({
    label: 'Change password',
    submitLabel: 'Change password',
    fields: [
      { key: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true,
        help: forced ? 'The generated password you just logged in with.' : undefined },
      { key: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, help: PASSWORD_HELP },
      { key: 'repeat', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', required: true, noSend: true },
    ],
    onSubmit: async (f) => {
      const cur = f.current();
      if ((cur.password || '') !== (cur.repeat || '')) throw new ApiError(422, { detail: 'the passwords differ', errors: [{ field: 'repeat', message: 'does not match the new password' }] });
      await api('PATCH', '/users/' + seg(user), { password: cur.password || '', current_password: cur.current_password || '' });
      if (forced) {
        // a fresh session: the old one was opened with the generated password
        await api('DELETE', '/session');
        const s = await api('POST', '/session', { username: user, password: cur.password });
        toast('Password changed.');
        await ctx.login(Object.assign({ via: 'session' }, s), '#/dashboard');
      } else {
        toast('Password changed.');
        ctx.go('#/dashboard');
      }
    },
  });
  main.append(h('section', { class: 'narrow' },
    h('h1', { tabindex: '-1' }, forced ? 'Choose your own password' : 'Change your password'),
    forced ? h('p', { class: 'alert info' }, `You logged in as ${user} with the generated first-start password. Choose a new one before going on.`) : null,
    form.el));
}
