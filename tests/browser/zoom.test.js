// Zoom: dragging a box over the chart fetches the visible step range at full resolution from
// the REST API; "Reset zoom" returns to the whole run.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let agent;
let browser;
h.useAgentAndBrowser((a, b) => {
  agent = a;
  browser = b;
});

test('drag-zoom shows the visible range at full resolution; reset returns to the whole run', async () => {
  const steps = 5000;  // over the cap: the whole-run view is downsampled
  const trainer = await h.startProducer(agent, { steps, rate: 0, name: 'zoom' });
  await trainer.done;
  await agent.waitFinished(trainer.sessionId);

  const requests = [];
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`), {
    setup: (p) => p.on('request', (r) => requests.push(r.url())),
  });
  await h.waitForRunLoaded(page, trainer.sessionId);
  const whole = (await h.chartData(page)).find((d) => d.metric === 'train/loss');
  assert.ok(whole.points.length <= 1000);
  const wholeSpacing = (whole.points[whole.points.length - 1][0] - whole.points[0][0]) / whole.points.length;
  assert.ok(wholeSpacing > 4, 'the whole-run view is downsampled');

  // Drag a box from step ~2000 to ~2400.
  const px = await page.evaluate(() => {
    const canvas = document.getElementById('loss-chart');
    const chart = Chart.getChart(canvas);
    const box = canvas.getBoundingClientRect();
    const x = chart.scales.x;
    return { a: box.left + x.getPixelForValue(2000), b: box.left + x.getPixelForValue(2400),
      y: box.top + (chart.chartArea.top + chart.chartArea.bottom) / 2 };
  });
  await page.mouse.move(px.a, px.y);
  await page.mouse.down();
  await page.mouse.move((px.a + px.b) / 2, px.y, { steps: 5 });
  await page.mouse.move(px.b, px.y, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'detail', null, { timeout: 5000 });
  assert.ok(requests.some((u) => /metrics\/train%2Floss\?.*from=\d+.*to=\d+/.test(u)), 'no range request was made');

  const range = await page.evaluate(() => window.trainscope.zoom.range);
  const zoomed = (await h.chartData(page)).find((d) => d.metric === 'train/loss');
  const rest = await agent.series(trainer.sessionId, 'train/loss');
  const expected = rest.points.filter((p) => p[0] >= range.from && p[0] <= range.to);
  assert.ok(expected.length > 100 && expected.length <= 1000, `range ${range.from}-${range.to}`);
  assert.deepEqual(zoomed.points.map((p) => p[0]), expected.map((p) => p[0]), 'zoomed view is not full resolution');
  assert.deepEqual(zoomed.points.map((p) => p[1]), expected.map((p) => p[2]));
  assert.match(await page.getByTestId('zoom-hint').innerText(), /full resolution/);
  await h.screenshot(page, 'zoom');

  await page.getByTestId('reset-zoom').click();
  await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'none');
  const back = (await h.chartData(page)).find((d) => d.metric === 'train/loss');
  assert.deepEqual(back.points, whole.points);
  const scale = await page.evaluate(() => {
    const s = Chart.getChart(document.getElementById('loss-chart')).scales.x;
    return [s.min, s.max];
  });
  assert.ok(scale[0] <= 0 && scale[1] >= steps - 1, `x axis after reset: ${scale}`);
  assert.deepEqual(page.errors, []);
});
