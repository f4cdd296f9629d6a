// Unit tests (node, no browser) of the pure parts of the analytics, alerts and sessions
// modules: NaN stretches, trend keys, alert identity and parsing, rate and duration
// formatting, and the statistics the page works out from its own series.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { webDir } = require('./harness');

const webModule = (name) => import(pathToFileURL(path.join(webDir, 'static', 'js', name)).href);

test('NaN stretches: runs of null points, each from its first to its last step', async () => {
  const { nanSpans } = await webModule('chart_markers.js');
  const pts = (ys) => ys.map((y, i) => ({ x: i * 10, y }));
  assert.deepEqual(nanSpans(pts([1, 2, 3])), []);
  assert.deepEqual(nanSpans(pts([1, null, null, 2, null])), [{ from: 10, to: 20 }, { from: 40, to: 40 }]);
  assert.deepEqual(nanSpans(pts([null])), [{ from: 0, to: 0 }]);
});

test('trend keys: "metric@rankN" names rank N, a bare name rank 0', async () => {
  const { parseTrendKey } = await webModule('trend_badges.js');
  assert.deepEqual(parseTrendKey('train/loss'), { metric: 'train/loss', rank: 0 });
  assert.deepEqual(parseTrendKey('train/loss@rank12'), { metric: 'train/loss', rank: 12 });
  assert.deepEqual(parseTrendKey('odd@name@rank1'), { metric: 'odd@name', rank: 1 });
});

test('alerts: parsed from the events list, one identity whether stored or pushed', async () => {
  const { alertKey, alertsFromEvents } = await webModule('alerts.js');
  const pushed = { type: 'alert', plugin: 'trend', session_id: 's', kind: 'nan', severity: 'critical',
    metric: 'train/loss', step: 900, message: 'train/loss became NaN at step 900', t_ms: 1795969858135.736 };
  const events = [
    { rank: 0, t_ms: 1795969858135.809, kind: 'alert', text: JSON.stringify(pushed) },
    { rank: 0, t_ms: 1795969858200, kind: 'note', text: 'not an alert' },
    { rank: 0, t_ms: 1795969858300, kind: 'alert', text: 'not JSON' },
  ];
  const parsed = alertsFromEvents(events);
  assert.equal(parsed.length, 2);
  assert.equal(alertKey(parsed[0]), alertKey(pushed));
  assert.equal(parsed[1].message, 'not JSON');
  assert.equal(parsed[1].t_ms, 1795969858300);
});

test('rates and durations are formatted for people', async () => {
  const { formatRate, formatDuration } = await webModule('stats_panel.js');
  assert.equal(formatRate(3.14159), '3.14');
  assert.equal(formatRate(42.25), '42.3');
  assert.equal(formatRate(250.4), '250');
  assert.equal(formatRate(1234.5), '1,235');
  assert.equal(formatRate(512170.7), '512.2 k');
  assert.equal(formatRate(2.5e6), '2.50 M');
  assert.equal(formatRate(null), '—');
  assert.equal(formatDuration(4.0007), '0:00:04');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(3 * 86400 + 61), '3 d 0:01:01');
  assert.equal(formatDuration(undefined), '—');
});

test('statistics from the page\'s own series: current, means, best val, elapsed, rate', async () => {
  const { statsFromSeries } = await webModule('stats_panel.js');
  const { Series } = await webModule('series_store.js');
  const loss = new Series('train/loss', 0, 1000);
  loss.mergeSnapshot([[0, 1000, 4], [1, 1500, 2], [2, 2000, null], [3, 3000, 3]], 4);
  const val = new Series('val/loss', 0, 1000);
  val.mergeSnapshot([[0, 1000, 5], [2, 2000, 1.5], [3, 3000, 2]], 3);
  const s = statsFromSeries(loss, val, 2);
  assert.equal(s.current_loss, 3);
  assert.equal(s.step, 3);
  assert.equal(s.mean_loss, 3);
  assert.equal(s.recent_mean_loss, 2.5);
  assert.equal(s.non_finite, 1);
  assert.equal(s.best_val_loss, 1.5);
  assert.equal(s.best_val_step, 2);
  assert.equal(s.elapsed_s, 2);
  assert.equal(s.iters_per_s, 1.5);
  assert.equal(s.approximate, false);
  assert.deepEqual(statsFromSeries(null, null), {});
});
