// Journey: the overview's charts render: canvas elements of a real size with
// something drawn on them, at desktop and phone size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle } from './lib.mjs';

const env = await startE2E();

for (const viewport of ['desktop', 'phone']) {
  test(`the overview's charts are drawn at ${viewport} size`, async () => {
    await withPage(env, { viewport }, async (page, ctx) => {
      await page.goto(env.base + '/');
      await settle(page, ctx, 'overview');
      // a frame for Chart.js to finish sizing to its box
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const charts = await page.locator('[data-page="overview"] canvas').evaluateAll((cs) => cs.map((c) => {
        const box = c.getBoundingClientRect();
        const g = c.getContext('2d');
        let painted = 0;
        if (c.width && c.height) {
          const px = g.getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
        }
        return { label: c.getAttribute('aria-label'), w: box.width, h: box.height, painted, total: c.width * c.height };
      }));
      assert.ok(charts.length >= 3, `${charts.length} charts on the overview (the repurchase trend, channels, the funnel)`);
      for (const c of charts) {
        assert.ok(c.w > 50 && c.h > 50, `chart "${c.label}" is ${c.w}x${c.h} px`);
        assert.ok(c.label, 'a chart without an accessible name (aria-label)');
        assert.ok(c.painted > c.total * 0.005, `chart "${c.label}" is blank (${c.painted} of ${c.total} pixels drawn)`);
      }
      // the charts fit the page at this width
      const vw = await page.evaluate(() => window.innerWidth);
      for (const c of charts) assert.ok(c.w <= vw, `chart "${c.label}" is ${c.w} px wide at a ${vw} px viewport`);
    });
  });
}
