// Runs overlaid on the chart to compare them with the shown run: each compared run's loss
// series (train/loss, its lowest rank) as a series of its own, colored apart and labelled
// with the run's name, and kept live like the shown run: the socket watches the run from
// its current seq, the REST snapshot is merged, pushed points after it are applied.
//
// The compared runs are kept in the URL (?compare=ID,ID) so a reload or a bookmark
// reopens the same comparison.
import * as api from './api.js';
import { Series } from './series_store.js';

export const COMPARE_METRIC = 'train/loss';
/** Most runs overlaid at once: beyond this the chart stops being readable. */
export const MAX_COMPARED = 6;

/** Compared run ids from the URL (?compare=a,b). */
export function compareIdsFromUrl(search = window.location.search) {
  const raw = new URLSearchParams(search).get('compare') || '';
  return [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))].slice(0, MAX_COMPARED);
}

function writeUrl(ids) {
  const url = new URL(window.location.href);
  if (ids.length) url.searchParams.set('compare', ids.join(','));
  else url.searchParams.delete('compare');
  window.history.replaceState(null, '', url);
}

export class RunCompare extends EventTarget {
  /**
   * @param socket  the LiveSocket (watch/unwatch)
   * @param cap     points per series (the store's cap)
   * @param runName (sessionId) -> the run's display name, from the run list
   */
  constructor(socket, cap, runName) {
    super();
    this.socket = socket;
    this.cap = cap;
    this.runName = runName;
    /** sessionId -> {sessionId, series, state: 'loading'|'loaded'|'error', generation} */
    this.entries = new Map();
    this.generation = 0;
  }

  ids() {
    return [...this.entries.keys()];
  }

  has(sessionId) {
    return this.entries.has(sessionId);
  }

  /** The overlay series of a compared run, or null. */
  seriesOf(sessionId) {
    const entry = this.entries.get(sessionId);
    return entry ? entry.series : null;
  }

  /** Overlay series for the chart, in the order they were added. */
  seriesList() {
    const list = [];
    for (const e of this.entries.values()) {
      e.series.label = `${COMPARE_METRIC} · ${this.runName(e.sessionId)}`;
      list.push(e.series);
    }
    return list;
  }

  /** Adds a run to the comparison: watch it live, then merge its REST snapshot. */
  async add(sessionId) {
    if (this.entries.has(sessionId) || this.entries.size >= MAX_COMPARED) return false;
    const series = new Series(COMPARE_METRIC, 0, this.cap);
    series.key = `cmp:${sessionId}:${Series.key(COMPARE_METRIC, 0)}`;
    series.overlay = true;
    series.sessionId = sessionId;
    const entry = { sessionId, series, state: 'loading', generation: ++this.generation, rank: 0 };
    this.entries.set(sessionId, entry);
    this.changed();
    let run;
    try {
      run = await api.getRun(sessionId);
    } catch (e) {
      if (this.entries.get(sessionId) !== entry) return false;
      // No such run (a stale link): drop it from the comparison.
      console.warn(`compare ${sessionId}:`, e.message);
      this.entries.delete(sessionId);
      this.changed();
      return false;
    }
    if (this.entries.get(sessionId) !== entry) return false;
    try {
      entry.rank = run.ranks && run.ranks.length ? Math.min(...run.ranks) : 0;
      series.rank = entry.rank;
      series.runStart = run.started_ms;  // the tooltip's elapsed time for this run's points
      this.socket.watch(sessionId, run.last_seq);
      if (!(run.metrics || []).includes(COMPARE_METRIC)) {
        entry.state = 'loaded';  // nothing yet: points arrive live, if ever
        this.changed();
        return true;
      }
      const r = await api.getSeries(sessionId, COMPARE_METRIC, { maxPoints: this.cap, rank: entry.rank });
      if (this.entries.get(sessionId) !== entry) return false;
      series.mergeSnapshot(r.points, r.seq);
      entry.state = 'loaded';
    } catch (e) {
      if (this.entries.get(sessionId) !== entry) return false;
      entry.state = e.status === 404 ? 'loaded' : 'error';  // 404: no such metric yet
      if (entry.state === 'error') console.warn(`compare ${sessionId}:`, e.message);
    }
    this.changed();
    return true;
  }

  remove(sessionId) {
    const entry = this.entries.get(sessionId);
    if (!entry) return null;
    this.entries.delete(sessionId);
    this.socket.unwatch(sessionId);
    this.changed();
    return entry.series.key;
  }

  /** Applies a pushed training_update if it belongs to a compared run; returns points applied. */
  applyLive(message) {
    const entry = this.entries.get(message.session_id);
    if (!entry || message.metric !== COMPARE_METRIC || (message.rank || 0) !== entry.rank) return 0;
    return entry.series.applyLive(message.points);
  }

  /** Points held for all compared runs (the status bar's memory count). */
  pointCount() {
    let n = 0;
    for (const e of this.entries.values()) n += e.series.points.length;
    return n;
  }

  /** Every compared run is loaded (or failed): tests wait for this. */
  settled() {
    return [...this.entries.values()].every((e) => e.state !== 'loading');
  }

  changed() {
    writeUrl(this.ids());
    this.dispatchEvent(new Event('change'));
  }
}
