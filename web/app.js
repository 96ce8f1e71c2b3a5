// scrmd dashboard (first version): log in, see who you are, manage API tokens.
'use strict';

const T = {
  zh: { login_title: '登录', username: '用户名', password: '密码', login: '登录', logout: '退出',
    welcome: '欢迎', tokens: 'API 令牌', token_name: '名称', role: '角色', prefix: '前缀', status: '状态',
    create: '创建', shown_once: '令牌只显示这一次，请立即复制：', viewer: '只读', operator: '运营', admin: '管理员',
    active: '有效', revoked: '已撤销', signed_in_as: '当前用户', lang: 'English' },
  en: { login_title: 'Log in', username: 'User name', password: 'Password', login: 'Log in', logout: 'Log out',
    welcome: 'Welcome', tokens: 'API tokens', token_name: 'Name', role: 'Role', prefix: 'Prefix', status: 'Status',
    create: 'Create', shown_once: 'The token is shown only this once; copy it now:', viewer: 'Viewer',
    operator: 'Operator', admin: 'Admin', active: 'active', revoked: 'revoked', signed_in_as: 'Signed in as',
    lang: '中文' },
};
let lang = localStorage.getItem('scrm_lang') || 'zh';
let csrf = null;
const $ = (s) => document.querySelector(s);
const t = (k) => T[lang][k] || k;

function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $('#lang').textContent = t('lang');
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const r = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  return { status: r.status, data };
}

function errorText(r) {
  const e = r.data && r.data.error;
  return e ? (e.field ? `${e.field}: ${e.message}` : e.message) : `HTTP ${r.status}`;
}

function show(view) {
  $('#login-view').hidden = view !== 'login';
  $('#home-view').hidden = view !== 'home';
  $('#logout').hidden = view !== 'home';
}

async function loadTokens() {
  const r = await api('GET', '/tokens?limit=100');
  const rows = $('#token-rows');
  rows.textContent = '';
  if (r.status !== 200) return;
  for (const tok of r.data.data) {
    const tr = document.createElement('tr');
    for (const v of [tok.id, tok.name, t(tok.role), tok.prefix, tok.revoked_at ? t('revoked') : t('active')]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.appendChild(td);
    }
    rows.appendChild(tr);
  }
}

async function refresh() {
  const r = await api('GET', '/me');
  if (r.status !== 200) { csrf = null; $('#who').textContent = ''; show('login'); return; }
  csrf = r.data.csrf_token || null;
  const u = r.data.user;
  $('#who').textContent = `${t('signed_in_as')}: ${u ? u.username : r.data.token.name}`;
  $('#profile').textContent = u ? `${u.display_name || u.username} · ${t(u.role)}` : '';
  $('#tokens').hidden = r.data.role !== 'admin';
  show('home');
  if (r.data.role === 'admin') await loadTokens();
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $('#login-error').textContent = '';
  const r = await api('POST', '/auth/login', { username: f.get('username'), password: f.get('password') });
  if (r.status !== 200) { $('#login-error').textContent = errorText(r); return; }
  ev.target.reset();
  await refresh();
});

$('#token-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $('#token-error').textContent = '';
  const r = await api('POST', '/tokens', { name: f.get('name'), role: f.get('role') });
  if (r.status !== 201) { $('#token-error').textContent = errorText(r); return; }
  $('#new-token').hidden = false;
  $('#new-token code').textContent = r.data.token;
  ev.target.reset();
  await loadTokens();
});

$('#logout').addEventListener('click', async () => {
  await api('POST', '/auth/logout');
  csrf = null;
  $('#new-token').hidden = true;
  await refresh();
});

$('#lang').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('scrm_lang', lang);
  applyLang();
  refresh();
});

applyLang();
refresh();
