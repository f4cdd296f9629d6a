// The page's copy of a run's series: one Series per (metric, rank), merged from a REST
// snapshot and the live WebSocket stream, deduplicated by sequence number, and bounded.
//
// A point is {x: step, y: value (null for NaN/Inf), t: Unix ms, seq}. Points are kept
// sorted by step so Chart.js can use them as they are. REST points carry no seq (0).
//
// Invariants of a Series:
//  - every point of the series with seq <= lastSeq is reflected in `points` (held, or folded
//    into a min/max bucket by decimation); a pushed point is applied iff its seq > lastSeq;
//  - points.length <= cap after every public call.

/** Smallest cap the store accepts: below it decimation has no room for buckets. */
export const MIN_CAP = 16;

/**
 * Bounds `points` (sorted by x) to at most `cap` points without losing the run's shape:
 * the newest half stays at full resolution; the older part is re-bucketed by step into
 * min/max pairs (so spikes survive) using a quarter of the budget, and its very first
 * point is always kept, so the series still spans its first to its last step.
 * Re-bucketing already-bucketed points keeps the extremes, so repeated calls only ever
 * coarsen the old part. Returns `points` itself when nothing needs doing.
 */
export function decimate(points, cap) {
  if (points.length <= cap) return points;
  const keepRecent = Math.floor(cap / 2);
  const oldCount = points.length - keepRecent;
  const buckets = Math.max(1, Math.floor(cap / 8));
  const first = points[0];
  const last = points[oldCount - 1];
  const span = last.x - first.x + 1;
  const width = Math.max(1, span / buckets);

  const out = [first];
  let bucket = -1;
  let lo = null;
  let hi = null;
  let nonFinite = null;
  const close = () => {
    const picked = [];
    if (nonFinite) picked.push(nonFinite);
    if (lo) picked.push(lo);
    if (hi && hi !== lo) picked.push(hi);
    picked.sort((a, b) => a.x - b.x || a.seq - b.seq);
    for (const p of picked) if (p !== first) out.push(p);
    lo = hi = nonFinite = null;
  };
  for (let i = 0; i < oldCount; ++i) {
    const p = points[i];
    const b = Math.min(buckets - 1, Math.floor((p.x - first.x) / width));
    if (b !== bucket) {
      close();
      bucket = b;
    }
    if (p.y === null) {
      // The first NaN/Inf of a bucket stays: a divergence must remain visible.
      if (!nonFinite) nonFinite = p;
      continue;
    }
    if (!lo || p.y < lo.y) lo = p;
    if (!hi || p.y > hi.y) hi = p;
  }
  close();
  for (let i = oldCount; i < points.length; ++i) out.push(points[i]);
  // Pathological inputs (many NaN buckets, tiny caps) could still overflow: thin evenly,
  // keeping both ends.
  if (out.length > cap) {
    const thin = [];
    const stride = (out.length - 1) / (cap - 1);
    for (let i = 0; i < cap; ++i) thin.push(out[Math.round(i * stride)]);
    return thin;
  }
  return out;
}

/**
 * Sorts points by step, stably, in place (a full-resolution REST response is in log order,
 * which differs when a trainer logged steps out of order, e.g. after resuming). Returns it.
 */
export function sortByStep(points) {
  for (let i = 1; i < points.length; ++i) {
    if (points[i].x < points[i - 1].x) return points.sort((a, b) => a.x - b.x);
  }
  return points;
}

/** Index at which a point with step x goes to keep `points` sorted (after equal steps). */
function upperBound(points, x) {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid].x <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Series {
  constructor(metric, rank, cap) {
    this.metric = metric;
    this.rank = rank;
    this.key = Series.key(metric, rank);
    this.cap = Math.max(MIN_CAP, cap);
    this.points = [];
    this.lastSeq = 0;
    /** Bumped on every change, so renderers can tell what moved. */
    this.version = 0;
    /**
     * Bumped on every change other than appending at the end (re-bucketing, a snapshot
     * merge, an out-of-order point): a renderer that copied `points` at the same epoch only
     * needs the points past its copy's length.
     */
    this.epoch = 0;
    /** The newest point by seq that was pushed live, else the last point held. */
    this.latestLive = null;
    this.snapshotLoaded = false;
  }

  static key(metric, rank) {
    return `${metric}@${rank}`;
  }

  /** The point a "current value" display shows. */
  latest() {
    return this.latestLive || this.points[this.points.length - 1] || null;
  }

  /** Applies pushed points [[step, t_ms, value, seq], ...] (seq-ordered); returns how many were new. */
  applyLive(raw) {
    let applied = 0;
    for (const r of raw) {
      const seq = r[3];
      if (seq <= this.lastSeq) continue;  // already held (a replay after reconnect)
      this.lastSeq = seq;
      const p = { x: r[0], y: r[2], t: r[1], seq };
      const n = this.points.length;
      if (n === 0 || this.points[n - 1].x <= p.x) {
        this.points.push(p);
      } else {
        this.points.splice(upperBound(this.points, p.x), 0, p);
        ++this.epoch;
      }
      this.latestLive = p;
      ++applied;
    }
    if (applied) {
      const bounded = decimate(this.points, this.cap);
      if (bounded !== this.points) {
        this.points = bounded;
        ++this.epoch;
      }
      ++this.version;
    }
    return applied;
  }

  /**
   * Merges a REST response: its points replace every held point with seq <= snapshotSeq
   * (they are in the snapshot), held points newer than the snapshot stay.
   */
  mergeSnapshot(restPoints, snapshotSeq) {
    const merged = sortByStep(restPoints.map((r) => ({ x: r[0], y: r[2], t: r[1], seq: 0 })));
    const newer = this.points.filter((p) => p.seq > snapshotSeq);
    if (newer.length) {
      for (const p of newer) merged.splice(upperBound(merged, p.x), 0, p);
    }
    this.points = decimate(merged, this.cap);
    this.lastSeq = Math.max(this.lastSeq, snapshotSeq);
    this.snapshotLoaded = true;
    ++this.version;
    ++this.epoch;
  }
}

/** Every series of the shown run. */
export class SeriesStore {
  constructor(cap) {
    this.cap = Math.max(MIN_CAP, cap);
    this.series = new Map();
    this.version = 0;
    /** Called with the new Series whenever one appears. */
    this.onSeriesAdded = null;
  }

  get(metric, rank) {
    return this.series.get(Series.key(metric, rank)) || null;
  }

  ensure(metric, rank) {
    let s = this.get(metric, rank);
    if (!s) {
      s = new Series(metric, rank, this.cap);
      this.series.set(s.key, s);
      ++this.version;
      if (this.onSeriesAdded) this.onSeriesAdded(s);
    }
    return s;
  }

  applyLive(metric, rank, raw) {
    const n = this.ensure(metric, rank).applyLive(raw);
    if (n) ++this.version;
    return n;
  }

  mergeSnapshot(metric, rank, restPoints, snapshotSeq) {
    this.ensure(metric, rank).mergeSnapshot(restPoints, snapshotSeq);
    ++this.version;
  }

  /** Series sorted for display: train/loss, val/loss, other losses, the rest; by name, rank. */
  list() {
    const order = (m) => (m === 'train/loss' ? 0 : m === 'val/loss' ? 1 : /loss/i.test(m) ? 2 : 3);
    return [...this.series.values()].sort((a, b) =>
      order(a.metric) - order(b.metric) || a.metric.localeCompare(b.metric) || a.rank - b.rank);
  }

  totalPoints() {
    let n = 0;
    for (const s of this.series.values()) n += s.points.length;
    return n;
  }

  clear() {
    this.series.clear();
    ++this.version;
  }
}
