// Journey: every navigation entry (data-nav) and every deep link opens its
// page (data-page) without a console error, a reload keeps it, at desktop and
// phone size (where nothing scrolls sideways); the language switch turns the
// page to English and back. A screenshot of every page goes to screenshots/.
// Run by pages_desktop.test.mjs and pages_phone.test.mjs (two files, so that
// the runner can run both sizes at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, shot, pageText, openNav, assertNoOverflow, NAV, deepLinks } from './lib.mjs';

// The language switch: English, then back to Chinese; the navigation and the
// page's own text change each time.
async function switchLanguage(page, ctx, name) {
  const zh = await pageText(page);
  const navZh = await page.locator('a[data-nav="/customers"]').innerText();
  await page.getByRole('button', { name: 'English', exact: true }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await settle(page, ctx, name);
  const en = await pageText(page);
  assert.match(await page.locator('a[data-nav="/customers"]').innerText(), /Customers/);
  assert.notEqual(en, zh, `the ${name} page reads the same in English (its text does not come from t()?)`);
  await page.getByRole('button', { name: '中文', exact: true }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await settle(page, ctx, name);
  assert.equal(await page.locator('a[data-nav="/customers"]').innerText(), navZh);
  assert.notEqual(await pageText(page), en, `the ${name} page did not turn back to Chinese`);
}

// Tabs (role tablist) show which one the address names: exactly one selected.
async function assertOneTabSelected(page) {
  const lists = page.getByRole('tablist');
  for (let i = 0; i < await lists.count(); i++) {
    const selected = await lists.nth(i).getByRole('tab', { selected: true }).count();
    assert.equal(selected, 1, `${selected} tabs selected in a tab list`);
  }
}

export async function pageJourneys(viewport) {
  const env = await startE2E();

  if (viewport === 'desktop') {
    test('the navigation lists every entry of the shell for an admin', async () => {
      await withPage(env, {}, async (page, ctx) => {
        await page.goto(env.base + '/');
        await settle(page, ctx, 'overview');
        const navs = await page.locator('a[data-nav]').evaluateAll((as) => as.map((a) => [a.getAttribute('data-nav'), a.getAttribute('href')]));
        assert.deepEqual(navs.map((n) => n[0]), NAV.map((n) => n[0]));
        for (const [nav, href] of navs) assert.equal(href, nav, 'data-nav and href differ');
      });
    });
  }

  for (const [path, name] of NAV) {
    test(`${viewport}: the navigation entry ${path} opens the ${name} page; a reload keeps it`, async () => {
      await withPage(env, { viewport }, async (page, ctx) => {
        // start elsewhere so that every entry is a navigation
        await page.goto(env.base + (path === '/' ? '/customers' : '/'));
        await settle(page, ctx);
        await openNav(page);
        await page.locator(`a[data-nav="${path}"]`).click();
        await settle(page, ctx, name);
        assert.equal(new URL(page.url()).pathname, path);
        assert.equal(await page.locator(`a[data-nav="${path}"]`).getAttribute('aria-current'), 'page', 'the entry is not marked current');
        const h1 = page.locator(`[data-page="${name}"] h1`);
        assert.ok(await h1.count() > 0 && (await h1.first().innerText()).trim(), 'the page has no heading (h1)');
        if (viewport === 'phone') await assertNoOverflow(page);
        await shot(page, ctx, name);
        await page.reload();
        await settle(page, ctx, name);
        assert.equal(new URL(page.url()).pathname, path);
        if (viewport === 'desktop') await switchLanguage(page, ctx, name);
      });
    });
  }

  for (const [link, name, shotName] of deepLinks(env.seed)) {
    test(`${viewport}: the deep link ${link} opens the ${name} page; a reload keeps it`, async () => {
      await withPage(env, { viewport }, async (page, ctx) => {
        await page.goto(env.base + link);
        await settle(page, ctx, name);
        const at = new URL(page.url());
        assert.equal(at.pathname + at.search, link, 'the page changed its address');
        await assertOneTabSelected(page);
        if (viewport === 'phone') await assertNoOverflow(page);
        if (shotName) await shot(page, ctx, shotName);
        await page.reload();
        await settle(page, ctx, name);
        const again = new URL(page.url());
        assert.equal(again.pathname + again.search, link, 'a reload lost the address');
        if (name === 'customer') {
          const c = [env.seed.searchTarget, env.seed.binder].find((x) => link.endsWith(`/${x.id}`));
          assert.ok((await pageText(page)).includes(c.name), `the profile does not show the name ${c.name}`);
        }
        if (viewport === 'desktop' && name !== 'not-found') await switchLanguage(page, ctx, name);
      });
    });
  }
}
