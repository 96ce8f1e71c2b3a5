// Journey: log in (a wrong password shows an error, the right one the
// overview with its figures), log out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, shot, numZh, figureAfter, ADMIN_PASSWORD } from './lib.mjs';

const env = await startE2E();

// A wrong password is a 401 (a failed load in the console): expected here.
const ALLOW = [{ status: 401, path: '/api/v1/auth/login' }];

for (const viewport of ['desktop', 'phone']) {
  test(`log in and out at ${viewport} size`, async () => {
    await withPage(env, { as: null, viewport, allow: ALLOW }, async (page, ctx) => {
      await page.goto(env.base + '/');
      await settle(page, ctx, 'login');
      await shot(page, ctx, 'login');
      const user = page.getByLabel(/^(用户名|User name)$/);
      const pass = page.getByLabel(/^(密码|Password)$/);
      const submit = page.getByRole('button', { name: /^(登录|Log in)$/ });

      // a wrong password: an error is shown, still on the login page
      await user.fill('admin');
      await pass.fill('not-the-password');
      await submit.click();
      const alert = page.locator('[data-page="login"]').getByRole('alert');
      await alert.first().waitFor();
      assert.ok((await alert.first().innerText()).trim().length > 0, 'the login error says nothing');
      assert.equal(await page.locator('[data-page="overview"]').count(), 0);

      // the right one: the overview, with its figures from the API
      await pass.fill(ADMIN_PASSWORD);
      await submit.click();
      await settle(page, ctx, 'overview');
      assert.equal(new URL(page.url()).pathname, '/');
      const session = (await ctx.context.cookies(env.base)).map((c) => `${c.name}=${c.value}`).join('; ');
      assert.equal((await env.d.req('GET', '/api/v1/me', { headers: { Cookie: session } })).status, 200, 'no session cookie after logging in');
      // the range the page shows (its date inputs), asked of the API
      const root = page.locator('[data-page="overview"]');
      const from = await root.getByLabel(/^(开始日期|From)$/).and(page.locator('input')).inputValue();
      const to = await root.getByLabel(/^(结束日期|To)$/).and(page.locator('input')).inputValue();
      const q = new URLSearchParams(Object.entries({ from, to }).filter(([, v]) => v)).toString();
      const o = (await env.d.req('GET', `/api/v1/analytics/overview${q ? '?' + q : ''}`, { token: await env.d.adminToken() })).json;
      assert.ok(o.customers > 40 && o.points_outstanding > 0, `odd overview from the API: ${JSON.stringify(o)}`);
      const text = await root.innerText();
      for (const [label, n] of [['客户总数', o.customers], ['订单', o.orders], ['积分余额', o.points_outstanding]]) {
        assert.equal(figureAfter(text, label), numZh(n), `the overview's "${label}" (range ${from}..${to})`);
      }
      // log out: back to the login form, and the session is gone
      await page.getByRole('button', { name: /^(退出|Log out)$/ }).click();
      await settle(page, ctx, 'login');
      const me = await env.d.req('GET', '/api/v1/me', { headers: { Cookie: session } });
      assert.equal(me.status, 401, 'the session still works after logging out');
      await page.reload();
      await settle(page, ctx, 'login');
    });
  });
}
