// Full-resolution data for a zoomed-in step range. When the chart is zoomed, the visible
// series are fetched again from the REST API for just that range (the agent returns every
// point when they fit in `maxPoints`, else min/max buckets of the range), and live points
// that fall inside the range are added, so the zoomed view stays exact and current.
import { decimate, sortByStep } from './series_store.js';

const DEBOUNCE_MS = 180;

export class ZoomDetail {
  /**
   * @param fetchSeries (metric, {from, to, maxPoints, rank, signal}) -> REST series response
   * @param maxPoints   per-series budget for the detail view
   * @param onChange    called when detail data arrives or is dropped
   */
  constructor(fetchSeries, maxPoints, onChange) {
    this.fetchSeries = fetchSeries;
    this.maxPoints = maxPoints;
    this.onChange = onChange;
    this.range = null;
    /** key -> {points, seq}, for the current range only. */
    this.entries = new Map();
    this.timer = null;
    this.abort = null;
    this.generation = 0;
    this.loading = false;
    /** Bumped whenever any detail point changes. */
    this.version = 0;
  }

  /** {points: Map key -> points, version} for the chart, or null when not zoomed. */
  data() {
    if (!this.range) return null;
    const points = new Map();
    for (const [key, entry] of this.entries) points.set(key, entry.points);
    return { points, version: this.version };
  }

  pointCount() {
    let n = 0;
    for (const entry of this.entries.values()) n += entry.points.length;
    return n;
  }

  /** New visible range (null: zoom reset). `series` are the series to fetch. */
  setRange(range, series) {
    clearTimeout(this.timer);
    if (!range) {
      this.cancel();
      this.range = null;
      this.entries.clear();
      ++this.version;
      this.onChange();
      return;
    }
    this.range = range;
    this.timer = setTimeout(() => this.load(series), DEBOUNCE_MS);
  }

  /** Refetches the current range (e.g. another series was switched on). */
  refresh(series) {
    if (this.range) this.setRange(this.range, series);
  }

  cancel() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    ++this.generation;
    this.loading = false;
  }

  async load(series) {
    this.cancel();
    const generation = this.generation;
    const abort = new AbortController();
    this.abort = abort;
    const { from, to } = this.range;
    this.loading = true;
    this.onChange();
    const results = await Promise.allSettled(series.map((s) =>
      this.fetchSeries(s.metric, { from, to, maxPoints: this.maxPoints, rank: s.rank, signal: abort.signal })
        .then((r) => [s, r])));
    if (generation !== this.generation) return;  // superseded by a newer range
    this.loading = false;
    const entries = new Map();
    for (const result of results) {
      if (result.status !== 'fulfilled') continue;
      const [s, r] = result.value;
      const points = sortByStep(r.points.map((p) => ({ x: p[0], y: p[2], t: p[1], seq: 0 })));
      // Live points that arrived after the snapshot were kept by the store: add the ones
      // in range so nothing between the snapshot and now is missing.
      const entry = { points, seq: r.seq, downsampled: r.downsampled };
      for (const p of s.points) {
        if (p.seq > r.seq && p.x >= from && p.x <= to) insertSorted(entry.points, p);
      }
      entry.seq = Math.max(r.seq, s.lastSeq);
      // A full REST answer plus those live points can exceed the budget: bound it here too.
      entry.points = decimate(entry.points, Math.max(this.maxPoints, 16));
      entries.set(s.key, entry);
    }
    this.entries = entries;
    ++this.version;
    this.onChange();
  }

  /** Live points [[step, t, value, seq]...] of a series: kept if inside the zoomed range. */
  applyLive(key, raw) {
    const entry = this.range && this.entries.get(key);
    if (!entry) return;
    const { from, to } = this.range;
    let added = false;
    for (const r of raw) {
      if (r[3] <= entry.seq || r[0] < from || r[0] > to) continue;
      entry.seq = r[3];
      insertSorted(entry.points, { x: r[0], y: r[2], t: r[1], seq: r[3] });
      added = true;
    }
    if (added) {
      entry.points = decimate(entry.points, Math.max(this.maxPoints, 16));
      ++this.version;
    }
  }
}

function insertSorted(points, p) {
  const n = points.length;
  if (n === 0 || points[n - 1].x <= p.x) {
    points.push(p);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid].x <= p.x) lo = mid + 1;
    else hi = mid;
  }
  points.splice(lo, 0, p);
}
