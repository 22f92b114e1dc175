// api.js: the admin REST API from the browser.
//
// Every call goes to this origin's /api/v1 with the session cookie; unsafe
// calls carry the X-CSRF-Token returned at login. Failures throw an
// ApiError holding the RFC 9457 problem (status, detail, errors[]).

let csrfToken = null;
let unauthorizedHandler = null;
let spec = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

// api('GET', '/routes') -> parsed JSON (null for 204).
// opts: {ifMatch, full (return {data, headers, status}), quiet401}
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: 'the appliance did not answer: ' + e.message });
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401 && unauthorizedHandler) unauthorizedHandler();
    throw new ApiError(res.status, data && typeof data === 'object' ? data : { title: res.statusText, detail: text });
  }
  return opts.full ? { data, headers: res.headers, status: res.status } : data;
}

// A call whose request or answer is a file: body is a Blob/ArrayBuffer
// (sent as application/octet-stream) or an object (sent as JSON); resolves
// to the answer's Response when it is 2xx, else throws an ApiError.
export async function apiBlob(method, path, body, headers = {}) {
  const h = Object.assign({}, headers);
  const init = { method, headers: h, credentials: 'same-origin', cache: 'no-store' };
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    h['Content-Type'] = 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: 'the appliance did not answer: ' + e.message });
  }
  if (res.ok) return res;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.status === 401 && unauthorizedHandler) unauthorizedHandler();
  throw new ApiError(res.status, data && typeof data === 'object' ? data : { title: res.statusText });
}

// One collection or item path segment, escaped.
export function seg(s) {
  return encodeURIComponent(String(s));
}

// The served OpenAPI document tells which endpoints and fields this daemon has.
export async function loadSpec() {
  try {
    spec = await api('GET', '/openapi.json');
  } catch {
    spec = { paths: {}, components: { schemas: {} } };
  }
  return spec;
}

export function hasPath(p, method) {
  const item = spec && spec.paths && spec.paths['/api/v1' + p];
  if (!item) return false;
  return method ? !!item[method.toLowerCase()] : true;
}

function resolve(s) {
  let guard = 0;
  while (s && s.$ref && guard++ < 10) {
    const name = s.$ref.split('/').pop();
    s = spec.components.schemas[name];
  }
  return s;
}

// The schema of an array's items (resolved), or null.
export function schemaItems(s) {
  return s && s.items ? resolve(s.items) || null : null;
}

// Schema of a component property path: schemaProp('Origin', 'tls.verify').
export function schemaProp(component, path) {
  if (!spec || !spec.components || !spec.components.schemas) return null;
  let s = resolve(spec.components.schemas[component]);
  if (path === '') return s || null;
  for (const k of path.split('.')) {
    if (!s || !s.properties || !s.properties[k]) return null;
    s = resolve(s.properties[k]);
  }
  return s;
}

export function schemaEnum(component, path, fallback) {
  const s = schemaProp(component, path);
  if (s && Array.isArray(s.enum)) return s.enum;
  if (s && s.items && Array.isArray(resolve(s.items).enum)) return resolve(s.items).enum;
  return fallback;
}
