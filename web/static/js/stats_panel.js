// The training statistics panel above the chart: current loss, average loss (whole run and a
// recent window), best validation loss and its step, training rate (iterations/s and
// tokens/s), elapsed time, estimated completion (time left and clock time) and progress
// towards max_iters. The figures come from the statistics and velocity plugins; a run the
// plugins have nothing on (say the agent restarted after it ended) gets what the page can
// work out from the series it holds, and says so.
import { formatCount, formatElapsed, formatValue } from './format.js';
import { explain } from './tap_detail.js';
import { formatClock as wallClock } from './x_axis.js';

const TILES = [
  { id: 'current', key: 'Current loss' },
  { id: 'mean', key: 'Average loss' },
  { id: 'best', key: 'Best val loss' },
  { id: 'rate', key: 'Training rate' },
  { id: 'elapsed', key: 'Elapsed' },
  { id: 'eta', key: 'Est. completion' },
];

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** 512170 -> "512.2 k", 1.5e6 -> "1.50 M": rates of tokens. */
export function formatRate(v) {
  if (num(v) === null) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  if (a >= 100) return formatCount(v);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A duration in seconds, h:mm:ss, with days split off past 48 h. */
export function formatDuration(seconds) {
  if (num(seconds) === null) return '—';
  const s = Math.max(0, seconds);
  if (s >= 48 * 3600) {
    const days = Math.floor(s / 86400);
    return `${days} d ${formatElapsed((s - days * 86400) * 1000)}`;
  }
  return formatElapsed(s * 1000);
}

/**
 * Wall-clock time of a Unix-ms instant: "14:03:22", with the date when not today
 * ("Dec 5 14:03:22"). No Intl: the panel is filled before the page's first chart, and a
 * page's first Intl formatter costs 30-60 ms (axis_ticks.js).
 */
export function formatClock(ms, now = new Date()) {
  if (num(ms) === null) return '—';
  return wallClock(ms, { withDate: new Date(ms).toDateString() !== now.toDateString() });
}

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * Figures the page can work out from its own copy of the series when the plugins have
 * none (or for a rank other than the one the statistics plugin follows): current loss, mean
 * loss (whole run and the last `window` points; approximate once the series was decimated),
 * best validation loss, elapsed time and the average rate. `loss` and `val` are Series.
 */
export function statsFromSeries(loss, val, window = 100) {
  const out = {};
  const pts = loss ? loss.points : [];
  if (pts.length) {
    const last = loss.latest();
    out.current_loss = last.y;
    out.step = last.x;
    let sum = 0;
    let n = 0;
    let nonFinite = 0;
    const recent = [];
    for (const p of pts) {
      if (p.y === null) {
        ++nonFinite;
        continue;
      }
      sum += p.y;
      ++n;
      recent.push(p.y);
      if (recent.length > window) recent.shift();
    }
    out.non_finite = nonFinite;
    out.approximate = pts.length >= loss.cap;  // decimated: min/max buckets, not every point
    if (n) out.mean_loss = sum / n;
    if (recent.length) {
      out.recent_mean_loss = recent.reduce((a, b) => a + b, 0) / recent.length;
      out.recent_window = window;
    }
    const first = pts[0];
    const end = pts[pts.length - 1];
    out.elapsed_s = (end.t - first.t) / 1000;
    if (end.t > first.t && end.x > first.x) out.iters_per_s = (end.x - first.x) / ((end.t - first.t) / 1000);
  }
  if (val) {
    for (const p of val.points) {
      if (p.y !== null && (out.best_val_loss === undefined || p.y < out.best_val_loss)) {
        out.best_val_loss = p.y;
        out.best_val_step = p.x;
      }
    }
  }
  return out;
}

export class StatsPanel {
  /** @param root the panel's <section>; its tiles are built here. */
  constructor(root) {
    this.root = root;
    this.tiles = {};
    const grid = el('div', 'stats-grid', { id: 'stats-grid' });
    for (const t of TILES) {
      const tile = el('div', 'stat-tile', { 'data-tile': t.id });
      const key = el('div', 'stat-tile-key');
      key.textContent = t.key;
      const value = el('div', 'stat-tile-value', { 'data-testid': `stat-${t.id}` });
      const sub = el('div', 'stat-tile-sub', { 'data-testid': `stat-${t.id}-sub` });
      tile.append(key, value, sub);
      grid.append(tile);
      this.tiles[t.id] = { tile, key, value, sub };
    }

    const foot = el('div', 'stats-foot', { id: 'stats-foot' });
    const progress = el('div', 'progress', { 'data-testid': 'stat-progress' });
    const progressKey = el('span', 'progress-key');
    progressKey.textContent = 'Progress';
    const track = el('div', 'progress-track', { role: 'progressbar', 'aria-label': 'Progress towards max_iters',
      'aria-valuemin': '0', 'aria-valuemax': '100' });
    const fill = el('div', 'progress-fill');
    track.append(fill);
    const progressText = el('span', 'progress-text', { 'data-testid': 'stat-progress-text' });
    progress.append(progressKey, track, progressText);
    this.progress = { root: progress, track, fill, text: progressText };

    this.trendRoot = el('div', 'trends', { 'data-testid': 'trend-badges', 'aria-label': 'Loss trends' });
    // A button: a tap says where the loss figures come from (tap_detail.js).
    this.source = el('button', 'stats-source', { 'data-testid': 'stats-source', type: 'button' });
    foot.append(progress, this.trendRoot, this.source);
    root.append(grid, foot);  // after the panel's fold toggle (dashboard.html)
  }

  /**
   * @param s {run, statistics, velocity, fallback, state}: the run shown (or null), the
   *   plugins' latest stats (or null), figures from the page's own series (used only where
   *   the plugins have nothing), and the analytics load state.
   */
  update({ run, statistics, velocity, fallback, state, rankNote = '' }) {
    const fbStats = !statistics && fallback ? fallback : null;
    const st = statistics || fbStats || {};
    const vel = velocity || {};
    const fb = fallback || {};
    const fromPlugins = Boolean(statistics);
    this.root.dataset.source = !run ? 'none' : fromPlugins ? 'plugins' : 'page';
    this.root.dataset.state = state || 'none';
    const status = run ? run.status : 'none';
    this.root.dataset.status = status;
    const pick = (...vals) => {
      for (const v of vals) if (v !== undefined) return v;
      return undefined;
    };

    // Current loss (null: the newest value was NaN/Inf).
    const current = fromPlugins ? st.current_loss : fb.current_loss;
    const step = pick(st.step, vel.step, fb.step);
    const nonFinite = num(fromPlugins ? st.non_finite : fb.non_finite) || 0;
    const t = this.tiles;
    if (current === null && (nonFinite > 0 || !fromPlugins)) {
      this.set(t.current, 'NaN/Inf', null, 'bad');
    } else {
      this.set(t.current, num(current) === null ? '—' : formatValue(current, 4), num(current));
    }
    setText(t.current.key, rankNote ? `Current loss · ${rankNote}` : 'Current loss');
    setText(t.current.sub, num(step) === null ? '' :
      `step ${formatCount(step)}${nonFinite ? ` · ${formatCount(nonFinite)} non-finite` : ''}`);
    t.current.sub.dataset.warn = String(nonFinite > 0);

    // Average loss: the whole run (finite values) and the recent window.
    const approx = fbStats && fbStats.approximate ? '≈' : '';
    this.set(t.mean, num(st.mean_loss) === null ? '—' : `${approx}${formatValue(st.mean_loss, 4)}`, num(st.mean_loss));
    const recent = num(st.recent_mean_loss);
    setText(t.mean.sub, recent === null ? 'whole run' :
      `whole run · last ${formatCount(st.recent_window || 0)}: ${formatValue(recent, 4)}`);
    t.mean.sub.dataset.value = recent === null ? '' : String(recent);

    // Best validation loss and where.
    const best = num(pick(st.best_val_loss, fb.best_val_loss));
    const bestStep = num(pick(st.best_val_step, fb.best_val_step));
    this.set(t.best, best === null ? '—' : formatValue(best, 4), best);
    setText(t.best.sub, bestStep === null ? (best === null ? 'no val/loss yet' : '') : `at step ${formatCount(bestStep)}`);
    t.best.sub.dataset.value = bestStep === null ? '' : String(bestStep);

    // Training rate.
    const iters = num(pick(vel.iters_per_s, st.iters_per_s, fb.iters_per_s));
    const tokens = num(vel.tokens_per_s);
    this.set(t.rate, iters === null ? '—' : `${formatRate(iters)} it/s`, iters);
    setText(t.rate.sub, tokens === null ? (velocity || statistics ? 'tokens/s: no tokens_per_iter' : (iters === null ? '' : 'average over the run'))
      : `${formatRate(tokens)} tokens/s`);
    t.rate.sub.dataset.value = tokens === null ? '' : String(tokens);

    // Elapsed.
    const elapsed = num(pick(st.elapsed_s, fb.elapsed_s));
    const runElapsed = run ? (status === 'running' ? (Date.now() - run.started_ms) / 1000 : run.duration_ms / 1000) : null;
    const shownElapsed = elapsed !== null ? elapsed : num(runElapsed);
    this.set(t.elapsed, formatDuration(shownElapsed), shownElapsed);
    setText(t.elapsed.sub, run && num(run.started_ms) !== null ? `started ${formatClock(run.started_ms)}` : '');

    // Estimated completion and progress.
    const maxIters = num(pick(st.max_iters, vel.max_iters));
    const eta = num(pick(st.eta_s, vel.eta_s));
    const etaMs = num(st.eta_ms) !== null ? st.eta_ms : (eta !== null ? Date.now() + eta * 1000 : null);
    if (status === 'finished' || status === 'failed' || status === 'crashed') {
      // failed: the trainer ended on an error it reported; crashed: its process died.
      const label = { finished: 'Finished', failed: 'Failed', crashed: 'Crashed' }[status];
      this.set(t.eta, label, null, status === 'finished' ? 'ok' : 'bad');
      setText(t.eta.sub, run.ended_ms ? `at ${formatClock(run.ended_ms)}` : (num(step) !== null ? `at step ${formatCount(step)}` : ''));
      t.eta.sub.dataset.value = '';
    } else if (eta !== null) {
      this.set(t.eta, `${formatDuration(eta)} left`, eta);
      setText(t.eta.sub, `≈ ${formatClock(etaMs)}`);
      t.eta.sub.dataset.value = String(etaMs);
    } else {
      this.set(t.eta, '—', null);
      setText(t.eta.sub, maxIters === null ? (run ? 'max_iters not set' : '') : 'waiting for a rate');
      t.eta.sub.dataset.value = '';
    }

    const p = this.progress;
    if (maxIters !== null && maxIters > 0 && num(step) !== null) {
      const done = Math.min(maxIters, step + 1);
      const pct = (100 * done) / maxIters;
      p.root.hidden = false;
      p.root.dataset.state = 'known';
      p.fill.style.width = `${pct.toFixed(2)}%`;
      p.track.setAttribute('aria-valuenow', pct.toFixed(1));
      setText(p.text, `${formatCount(done)} / ${formatCount(maxIters)} iters · ${pct.toFixed(pct >= 99.95 || pct < 10 ? 1 : 0)} %`);
    } else {
      p.root.dataset.state = 'unknown';
      p.fill.style.width = '0%';
      p.track.removeAttribute('aria-valuenow');
      setText(p.text, run ? 'no max_iters in the run config' : '—');
    }

    const sourceText = !run || fromPlugins ? '' : state === 'loading' ? 'loading analytics…'
      : `${rankNote ? `${rankNote} · ` : ''}loss figures from chart data`;
    setText(this.source, sourceText);
    explain(this.source, !run || fromPlugins ? '' : rankNote
      ? `The statistics plugin follows rank 0: the loss figures of ${rankNote} are worked out from the points the page holds.`
      : 'No statistics from the agent\'s plugins for this run (not loaded, or the agent restarted since it ran): ' +
        'the loss figures are worked out from the points the page holds.');
  }

  set(tile, text, value, tone = '') {
    setText(tile.value, text);
    tile.value.dataset.value = value === null || value === undefined ? '' : String(value);
    tile.tile.dataset.tone = tone;
  }
}
