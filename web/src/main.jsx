// The dashboard: the session (GET /me, the login form), the shell (navigation,
// language, who is signed in) and the pages, one module each under pages/.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './app.css';
import { api, post, setCsrf, whenLoggedOut } from './api.js';
import { addStrings, getLang, setLang, t, useLang } from './i18n.js';
import { match, navigate, useLocation } from './router.js';
import { Button, ErrorBox, Field, Loading, Toasts, setUser, useSubmit } from './ui.jsx';

// A page module loaded the first time it is shown (each page is its own chunk,
// so the first load carries the shell and one page), then kept.
function lazyPage(load) {
  let mod = null;
  let pending = null;
  return function LazyPage(props) {
    const [, loaded] = useState(0);
    const [error, setError] = useState(null);
    const start = () => {
      setError(null);
      (pending ||= load()).then((m) => { mod = m; loaded((n) => n + 1); }, (e) => { pending = null; setError(e); });
    };
    useEffect(() => { if (!mod) start(); }, []); // eslint-disable-line react-hooks/exhaustive-deps
    if (mod) return <mod.default {...props} />;
    return error ? <ErrorBox error={error} onRetry={start} /> : <Loading />;
  };
}

const audiencesPage = lazyPage(() => import('./pages/audiences.jsx'));

// path, page, the navigation entry (none: reached from another page), who sees it
const ROUTES = [
  { path: '/', page: lazyPage(() => import('./pages/overview.jsx')), nav: 'nav_overview', icon: '◎' },
  { path: '/customers', page: lazyPage(() => import('./pages/customers.jsx')), nav: 'nav_customers', icon: '☺' },
  { path: '/customers/:id', page: lazyPage(() => import('./pages/customer.jsx')), parent: '/customers' },
  { path: '/orders', page: lazyPage(() => import('./pages/orders.jsx')), nav: 'nav_orders', icon: '▦' },
  { path: '/tags', page: lazyPage(() => import('./pages/tags.jsx')), nav: 'nav_tags', icon: '#' },
  { path: '/audiences', page: audiencesPage, nav: 'nav_audiences', icon: '⚲' },
  { path: '/audiences/:id', page: audiencesPage, parent: '/audiences' },
  { path: '/loyalty', page: lazyPage(() => import('./pages/loyalty.jsx')), nav: 'nav_loyalty', icon: '♦' },
  { path: '/sops', page: lazyPage(() => import('./pages/sops.jsx')), nav: 'nav_sops', icon: '⏰' },
  { path: '/tasks', page: lazyPage(() => import('./pages/tasks.jsx')), nav: 'nav_tasks', icon: '✓' },
  { path: '/analytics', page: lazyPage(() => import('./pages/analytics.jsx')), nav: 'nav_analytics', icon: '▤' },
  { path: '/channels', page: lazyPage(() => import('./pages/channels.jsx')), nav: 'nav_channels', icon: '⌁' },
  { path: '/groups', page: lazyPage(() => import('./pages/groups.jsx')), nav: 'nav_groups', icon: '◍' },
  { path: '/ambassadors', page: lazyPage(() => import('./pages/ambassadors.jsx')), nav: 'nav_ambassadors', icon: '★' },
  { path: '/deliveries', page: lazyPage(() => import('./pages/deliveries.jsx')), nav: 'nav_deliveries', icon: '✉' },
  { path: '/admin/users', page: lazyPage(() => import('./pages/users.jsx')), nav: 'nav_users', icon: '☻', admin: true },
  { path: '/admin/tokens', page: lazyPage(() => import('./pages/tokens.jsx')), nav: 'nav_tokens', icon: '⚿', admin: true },
  { path: '/admin/webhooks', page: lazyPage(() => import('./pages/webhooks.jsx')), nav: 'nav_webhooks', icon: '⇄', admin: true },
  { path: '/admin/message-channels', page: lazyPage(() => import('./pages/message_channels.jsx')), nav: 'nav_message_channels', icon: '☏', admin: true },
  { path: '/admin/audit', page: lazyPage(() => import('./pages/audit.jsx')), nav: 'nav_audit', icon: '☰', admin: true },
];

addStrings({
  zh: {
    page_not_found: '没有这个页面', back_home: '回到概览', signed_in_as: '当前用户', skip: '跳到正文',
    nav_orders: '订单', nav_tags: '标签', nav_audiences: '人群', nav_loyalty: '会员与积分', nav_sops: 'SOP 自动化',
    nav_tasks: '我的任务', nav_deliveries: '消息发件箱', nav_users: '用户', nav_webhooks: 'Webhook',
    nav_message_channels: '消息通道', nav_audit: '审计日志',
  },
  en: {
    page_not_found: 'No such page', back_home: 'Back to the overview', signed_in_as: 'Signed in as', skip: 'Skip to content',
    nav_orders: 'Orders', nav_tags: 'Tags', nav_audiences: 'Audiences', nav_loyalty: 'Member club', nav_sops: 'SOP automation',
    nav_tasks: 'My tasks', nav_deliveries: 'Outbox', nav_users: 'Users', nav_webhooks: 'Webhooks',
    nav_message_channels: 'Message channels', nav_audit: 'Audit log',
  },
});

function Login({ onLogin }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const s = useSubmit(async () => {
    const r = await post('/auth/login', { username, password });
    setCsrf(r.csrf_token);
    onLogin(r.user);
  });
  return (
    <main class="login" data-page="login">
      <form class="card login-card" onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate>
        <h1>{t('app_name')}</h1>
        <h2>{t('login_title')}</h2>
        <Field label={t('username')} name="username" error={s.error}>
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </Field>
        <Field label={t('password')} name="password" error={s.error}>
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        {s.error && !(s.error.field === 'username' || s.error.field === 'password') && <ErrorBox error={s.error} />}
        <Button type="submit" class="primary wide" busy={s.busy}>{t('login')}</Button>
        <button type="button" class="btn ghost" onClick={() => setLang(getLang() === 'zh' ? 'en' : 'zh')}>{t('lang_switch')}</button>
      </form>
    </main>
  );
}

function Shell({ me, onLogout }) {
  const { path, query } = useLocation();
  const [menu, setMenu] = useState(false);
  let found = null;
  for (const r of ROUTES) {
    const params = match(r.path, path);
    if (params && (!r.admin || me.role === 'admin')) {
      found = { route: r, params };
      break;
    }
  }
  const active = found ? found.route.parent || found.route.path : null;
  const logout = async () => {
    try { await post('/auth/logout'); } catch { /* gone already */ }
    setCsrf(null);
    onLogout();
  };
  const Page = found && found.route.page;
  return (
    <div class={`shell ${menu ? 'menu-open' : ''}`}>
      <a class="skip" href="#content">{t('skip')}</a>
      <aside class="side" aria-label={t('menu')}>
        <div class="brand">scrmd</div>
        <nav>
          {ROUTES.filter((r) => r.nav && (!r.admin || me.role === 'admin')).map((r) => (
            <a href={r.path} class={active === r.path ? 'on' : ''} aria-current={active === r.path ? 'page' : undefined}
              data-nav={r.path} onClick={() => setMenu(false)}>
              <span class="nav-icon" aria-hidden="true">{r.icon}</span>{t(r.nav)}
            </a>
          ))}
        </nav>
      </aside>
      <div class="main">
        <header class="top">
          <button type="button" class="btn ghost menu-btn" aria-label={t('menu')} aria-expanded={menu ? 'true' : 'false'} onClick={() => setMenu(!menu)}>☰</button>
          <span class="grow" />
          <span class="who" title={t('signed_in_as')}>{me.display_name || me.username} · {t('role_' + me.role)}</span>
          <button type="button" class="btn ghost" id="lang" onClick={() => setLang(getLang() === 'zh' ? 'en' : 'zh')}>{t('lang_switch')}</button>
          <button type="button" class="btn ghost" id="logout" onClick={logout}>{t('logout')}</button>
        </header>
        <main id="content" class="content" tabIndex={-1}>
          {Page ? <Page key={path} params={found.params} query={query} me={me} /> : (
            <div data-page="not-found">
              <h1>{t('page_not_found')}</h1>
              <a href="/">{t('back_home')}</a>
            </div>
          )}
        </main>
      </div>
      <Toasts />
    </div>
  );
}

function App() {
  useLang();
  const [me, setMe] = useState(undefined);
  useEffect(() => {
    // public: answers nobody (not 401) before the login
    api('GET', '/auth/session')
      .then((r) => {
        setCsrf(r.csrf_token);
        setUser(r.user);
        setMe(r.user);
      })
      .catch(() => setMe(null));
    return whenLoggedOut(() => { setUser(null); setMe(null); });
  }, []);
  if (me === undefined) return <Loading />;
  if (!me) {
    return <Login onLogin={(u) => { setUser(u); setMe(u); if (location.pathname === '/login') navigate('/', { replace: true }); }} />;
  }
  return <Shell me={me} onLogout={() => { setUser(null); setMe(null); }} />;
}

document.documentElement.lang = getLang() === 'zh' ? 'zh-CN' : 'en';
render(<App />, document.getElementById('app'));
