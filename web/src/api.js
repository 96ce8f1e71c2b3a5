// The REST API as the dashboard calls it: JSON in and out, the session cookie,
// the CSRF token on every write, errors as { status, code, message, field }.

let csrf = null;

export function setCsrf(token) {
  csrf = token || null;
}

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_error');
    this.field = e.field || null;
    this.existingId = e.id || null;
  }
}

// Listeners told when the session is gone (401 on any call): the app shows the login.
const onLogout = new Set();
export function whenLoggedOut(fn) {
  onLogout.add(fn);
  return () => onLogout.delete(fn);
}

export async function api(method, path, body, { raw = false, headers = {} } = {}) {
  const h = { ...headers };
  let payload;
  if (body instanceof Blob || typeof body === 'string') {
    payload = body;
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (csrf && method !== 'GET') h['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch('/api/v1' + path, { method, headers: h, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, { error: { message: String(e.message || e) } });
  }
  if (raw && r.ok) return r;
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) {
    if (r.status === 401 && path !== '/auth/login') onLogout.forEach((fn) => fn());
    throw new ApiError(r.status, data);
  }
  return data;
}

export const get = (path, query) => api('GET', path + qs(query));
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// A query string from an object, leaving out empty values.
export function qs(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}
