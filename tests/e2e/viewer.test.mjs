// Journey: a viewer sees no write control ([data-write]) on any page, and a
// write sent straight to the API with the viewer's session is refused (403).
// An admin does see write controls on the pages that have writes, so the
// viewer's check is not passed by pages that mark nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, NAV, deepLinks } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });

const writeCount = (page) => page.locator('[data-write]').count();

test('a viewer\'s navigation has every entry but the admin\'s', async () => {
  await withPage(env, { as: 'viewer' }, async (page, ctx) => {
    await page.goto(env.base + '/');
    await settle(page, ctx, 'overview');
    const navs = await page.locator('a[data-nav]').evaluateAll((as) => as.map((a) => a.getAttribute('data-nav')));
    assert.deepEqual(navs, NAV.map((n) => n[0]).filter((p) => !p.startsWith('/admin/')));
  });
});

const adminOnly = (p) => p.startsWith('/admin/');
const viewerPages = [...NAV.filter(([p]) => !adminOnly(p)), ...deepLinks(env.seed).filter(([p]) => !adminOnly(p))];
for (const [link, name] of viewerPages) {
  test(`a viewer sees no [data-write] on ${link}`, async () => {
    await withPage(env, { as: 'viewer' }, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, name);
      const n = await writeCount(page);
      const what = n ? await page.locator('[data-write]').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 160))) : [];
      assert.equal(n, 0, `write controls shown to a viewer:\n  ${what.join('\n  ')}`);
    });
  });
}

test('a viewer opening an admin page gets no such page', async () => {
  await withPage(env, { as: 'viewer' }, async (page, ctx) => {
    for (const p of NAV.map((n) => n[0]).filter(adminOnly)) {
      await page.goto(env.base + p);
      await settle(page, ctx, 'not-found');
    }
  });
});

// pages with writes: each shows an admin at least one data-write control
const writePages = [
  ['/customers', 'customers'], [`/customers/${env.seed.binder.id}`, 'customer'], ['/channels', 'channels'],
  ['/groups', 'groups'], ['/ambassadors', 'ambassadors'], ['/admin/tokens', 'tokens'],
];
for (const [link, name] of writePages) {
  test(`an admin sees write controls ([data-write]) on ${link}`, async () => {
    await withPage(env, { as: 'admin' }, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, name);
      assert.ok(await writeCount(page) > 0, `no [data-write] on ${link} for an admin`);
    });
  });
}

test('writes sent straight to the API with the viewer\'s session are refused with 403', async () => {
  const c = env.seed.binder;
  const o = env.seed.unbound[1];
  const writes = [
    ['POST', '/api/v1/customers', { name: '不该出现' }],
    ['PATCH', `/api/v1/customers/${c.id}`, { name: '改名了' }],
    ['POST', '/api/v1/orders/bind', { customer_id: c.id, platform: o.platform, external_id: o.external_id, phone: o.buyer_phone }],
    ['POST', `/api/v1/customers/${c.id}/points`, { delta: 1000, reason: 'manual' }],
    ['POST', '/api/v1/channels', { name: '不该出现', kind: 'other' }],
  ];
  const allow = writes.map(([, p]) => ({ status: 403, path: p }));
  await withPage(env, { as: 'viewer', allow }, async (page, ctx) => {
    await page.goto(env.base + '/');
    await settle(page, ctx, 'overview');
    const answers = await page.evaluate(async (ws) => {
      const me = await (await fetch('/api/v1/me')).json();
      const out = [];
      for (const [method, p, body] of ws) {
        const r = await fetch(p, {
          method, body: JSON.stringify(body), credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        });
        out.push([method, p, r.status, (await r.json().catch(() => ({}))).error?.code]);
      }
      return { role: me.role || me.user?.role, out };
    }, writes);
    assert.equal(answers.role, 'viewer');
    for (const [method, p, status, code] of answers.out) assert.deepEqual([method, p, status, code], [method, p, 403, 'forbidden']);
  });
  // nothing changed
  assert.equal((await adminApi('GET', `/customers/${c.id}`)).json.name, c.name);
  assert.equal((await adminApi('GET', `/customers/${c.id}`)).json.points_balance, c.points_balance);
  assert.equal((await adminApi('GET', `/orders/${o.id}`)).json.customer_id, null);
  assert.equal((await adminApi('GET', '/customers?q=' + encodeURIComponent('不该出现'))).json.data.length, 0);
});
