// Simplified Chinese by default, English on a switch (kept in localStorage).
// Each page module adds its own strings with addStrings(); t(key, vars) looks a
// key up in the current language, then in Chinese, and fills {name} slots.
import { useEffect, useState } from 'preact/hooks';

const dict = { zh: {}, en: {} };
let lang = localStorage.getItem('scrm_lang') === 'en' ? 'en' : 'zh';
const listeners = new Set();

export function addStrings(strings) {
  for (const l of ['zh', 'en']) Object.assign(dict[l], strings[l] || {});
}

export function t(key, vars) {
  let s = dict[lang][key] ?? dict.zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
  return s;
}

export function getLang() {
  return lang;
}

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  localStorage.setItem('scrm_lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((fn) => fn());
}

// Re-render a component when the language changes.
export function useLang() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((n) => n + 1);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return lang;
}

const locale = () => (lang === 'zh' ? 'zh-CN' : 'en-US');

export function num(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString(locale());
}

export function money(cents) {
  if (cents === null || cents === undefined) return '—';
  return '¥' + (cents / 100).toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function pct(rate) {
  if (rate === null || rate === undefined) return '—';
  return (rate * 100).toLocaleString(locale(), { maximumFractionDigits: 1 }) + '%';
}

// RFC 3339 times in the browser's zone, to the minute; dates as they are.
export function when(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

addStrings({
  zh: {
    app_name: 'scrmd 私域运营', login_title: '登录', username: '用户名', password: '密码', login: '登录',
    logout: '退出', lang_switch: 'English', loading: '加载中…', retry: '重试', save: '保存', cancel: '取消',
    confirm: '确认', delete: '删除', create: '新建', edit: '编辑', search: '搜索', close: '关闭',
    next_page: '下一页', prev_page: '上一页', first_page: '第一页', none: '暂无数据', all: '全部',
    role_admin: '管理员', role_operator: '运营', role_viewer: '只读', error_network: '无法连接服务器',
    error_forbidden: '没有权限执行此操作', saved: '已保存', not_found: '找不到这条记录',
    nav_overview: '概览', nav_customers: '客户', nav_analytics: '数据分析', nav_channels: '渠道与活码',
    nav_groups: '社群', nav_ambassadors: 'KOC 推广大使', nav_tokens: 'API 令牌', menu: '菜单',
    range_from: '开始日期', range_to: '结束日期', range_all: '全部时间', range_30: '近 30 天', range_90: '近 90 天',
    range_365: '近一年', apply: '应用', id: 'ID', name: '名称', kind: '类型', created_at: '创建时间',
    actions: '操作', are_you_sure: '确定吗？', yes: '是', no: '否',
  },
  en: {
    app_name: 'scrmd private domain', login_title: 'Log in', username: 'User name', password: 'Password',
    login: 'Log in', logout: 'Log out', lang_switch: '中文', loading: 'Loading…', retry: 'Retry', save: 'Save',
    cancel: 'Cancel', confirm: 'Confirm', delete: 'Delete', create: 'New', edit: 'Edit', search: 'Search',
    close: 'Close', next_page: 'Next', prev_page: 'Previous', first_page: 'First page', none: 'Nothing here yet',
    all: 'All', role_admin: 'Admin', role_operator: 'Operator', role_viewer: 'Viewer',
    error_network: 'Cannot reach the server', error_forbidden: 'You may not do this', saved: 'Saved',
    not_found: 'No such record', nav_overview: 'Overview', nav_customers: 'Customers', nav_analytics: 'Analytics',
    nav_channels: 'Channels & live codes', nav_groups: 'Groups', nav_ambassadors: 'KOC ambassadors',
    nav_tokens: 'API tokens', menu: 'Menu', range_from: 'From', range_to: 'To', range_all: 'All time',
    range_30: 'Last 30 days', range_90: 'Last 90 days', range_365: 'Last year', apply: 'Apply', id: 'ID',
    name: 'Name', kind: 'Kind', created_at: 'Created', actions: 'Actions', are_you_sure: 'Are you sure?',
    yes: 'Yes', no: 'No',
  },
});
