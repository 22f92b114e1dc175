// app.js: the web UI's entry point: session, navigation and the router.
// Pages live in pages/*.js and export render(main, params, ctx), which
// may return a function to call when the page is left (timers).

import { api, setCsrf, onUnauthorized, loadSpec, hasPath } from './api.js';
import { h, clear, toast } from './ui.js';
import * as dashboard from './pages/dashboard.js';
import * as resources from './pages/resources.js';
import * as certificates from './pages/certificates.js';
import * as revisions from './pages/revisions.js';
import * as config from './pages/config.js';
import * as account from './pages/account.js';
import * as backup from './pages/backup.js';
import * as logs from './pages/logs.js';
import * as sites from './pages/sites.js';

const HINT = 'gatehouse.session'; // "a session cookie may exist": avoids a 401 probe

const ctx = {
  session: null,
  get canWrite() {
    return !!(this.session && this.session.role === 'admin');
  },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  login: (s, next) => startSession(s, next),
  logout: () => logout(),
};

const NAV = [
  ['dashboard', 'Dashboard'],
  ['sites', 'Sites'],
  ['listeners', 'Listeners'],
  ['routes', 'Routes'],
  ['origins', 'Origins'],
  ['access_lists', 'Access lists'],
  ['rate_limits', 'Rate limits'],
  ['error_pages', 'Error pages'],
  ['certificates', 'Certificates'],
  ['users', 'Users'],
  ['tokens', 'Tokens'],
  ['logs', 'Logs'],
  ['revisions', 'Revisions'],
  ['config', 'Import / export'],
  ['backup', 'Backup / restore'],
];

let leave = null;
const main = () => document.getElementById('main');

function setState(state) {
  document.body.dataset.state = state;
}

function buildNav() {
  const ul = clear(document.getElementById('nav-list'));
  for (const [id, label] of NAV) {
    if (id === 'certificates' && !hasPath('/certificates')) continue;
    if (id === 'access_lists' && !hasPath('/access_lists')) continue;
    if (id === 'rate_limits' && !hasPath('/rate_limits')) continue;
    if (id === 'error_pages' && !hasPath('/error_pages')) continue;
    ul.appendChild(h('li', null, h('a', { href: '#/' + id, dataset: { page: id } }, label)));
  }
}

function markNav(page) {
  for (const a of document.querySelectorAll('#nav-list a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function startSession(s, next) {
  ctx.session = s;
  setCsrf(s.csrf_token);
  try {
    localStorage.setItem(HINT, '1');
  } catch {
    /* storage off: the next load asks again */
  }
  await loadSpec();
  buildNav();
  document.getElementById('who').textContent = `${s.user} (${s.role})`;
  if (s.must_change_password) {
    setState('must-change');
    if (location.hash !== '#/password') location.hash = '#/password';
    else route();
    return;
  }
  setState('in');
  const cur = location.hash;
  const target = next || (!cur || cur === '#/' || cur === '#/password' ? '#/dashboard' : cur);
  if (cur === target) route();
  else location.hash = target;
}

async function logout() {
  try {
    await api('DELETE', '/session', undefined, { quiet401: true });
  } catch {
    /* gone already */
  }
  history.replaceState(null, '', location.pathname); // the next login starts on the dashboard
  endSession('You are logged out.');
}

function endSession(message) {
  ctx.session = null;
  setCsrf(null);
  try {
    localStorage.removeItem(HINT);
  } catch {
    /* nothing kept */
  }
  showLogin(message);
}

function showLogin(message) {
  if (leave) leave();
  leave = null;
  setState('out');
  const old = main();
  const m = old.cloneNode(false);
  old.replaceWith(m);
  account.renderLogin(m, ctx, message);
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { page: parts[0] || 'dashboard', rest: parts.slice(1) };
}

async function route() {
  if (!ctx.session) return;
  if (location.hash && !location.hash.startsWith('#/')) return; // an in-page anchor
  const { page, rest } = parseHash();
  if (document.body.dataset.state === 'must-change' && page !== 'password') {
    location.hash = '#/password';
    return;
  }
  if (leave) leave();
  leave = null;
  // a fresh <main> per page: listeners a page adds leave with it
  const old = main();
  const m = old.cloneNode(false);
  old.replaceWith(m);
  markNav(page);
  closeNav();
  let r;
  try {
    if (page === 'dashboard') r = await dashboard.render(m, rest, ctx);
    else if (page === 'sites') r = await sites.render(m, rest, ctx);
    else if (resources.COLLECTIONS[page]) r = await resources.render(m, page, rest, ctx);
    else if (page === 'certificates') r = await certificates.render(m, rest, ctx);
    else if (page === 'revisions') r = await revisions.render(m, rest, ctx);
    else if (page === 'config') r = await config.render(m, rest, ctx);
    else if (page === 'backup') r = await backup.render(m, rest, ctx);
    else if (page === 'logs') r = await logs.render(m, rest, ctx);
    else if (page === 'password') r = await account.renderPassword(m, ctx);
    else m.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, 'There is no page here. ', h('a', { href: '#/dashboard' }, 'Go to the dashboard.')));
  } catch (err) {
    if (err && err.status === 401) return;
    m.append(h('div', { class: 'alert error', role: 'alert' }, 'This page could not be loaded: ' + (err && err.message)));
  }
  if (typeof r === 'function') leave = r;
  const h1 = m.querySelector('h1');
  if (h1 && document.activeElement === document.body) h1.focus();
  else if (h1 && !m.contains(document.activeElement)) h1.focus();
}

function closeNav() {
  const t = document.getElementById('nav-toggle');
  t.setAttribute('aria-expanded', 'false');
  document.body.classList.remove('nav-open');
}

function init() {
  const t = document.getElementById('nav-toggle');
  t.addEventListener('click', () => {
    const open = t.getAttribute('aria-expanded') !== 'true';
    t.setAttribute('aria-expanded', String(open));
    document.body.classList.toggle('nav-open', open);
    if (open) {
      const a = document.querySelector('#nav-list a');
      if (a) a.focus();
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('nav-open')) {
      closeNav();
      t.focus();
    }
  });
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    const h1 = main().querySelector('h1');
    (h1 || main()).focus();
  });
  document.getElementById('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  onUnauthorized(() => {
    if (ctx.session) endSession('Your session has ended: log in again.');
  });
  boot();
}

async function boot() {
  let hinted = false;
  try {
    hinted = localStorage.getItem(HINT) === '1';
  } catch {
    hinted = false;
  }
  if (hinted) {
    try {
      const s = await api('GET', '/session', undefined, { quiet401: true });
      if (s.via === 'session' && s.csrf_token) {
        await startSession(s);
        return;
      }
    } catch {
      /* expired or the daemon restarted */
    }
  }
  endSession();
}

export { toast };
init();
