// The status bar: what the page holds and how the run is doing. Points held in memory, the
// JS heap (performance.memory where the browser has it, else "n/a"), records the trainer
// dropped (a full ring), the newest step, the live point rate, and whether the agent can store.
import { formatAge, formatBytes, formatCount } from './format.js';

// Below this many points behind, a healthy agent is just between two batches: not worth a word.
const FORWARD_BACKLOG = 50000;

export class StatusBar {
  /** @param root element holding [data-field=...] children */
  constructor(root) {
    this.root = root;
    this.fields = {};
    for (const el of root.querySelectorAll('[data-field]')) this.fields[el.dataset.field] = el;
    this.rateWindow = [];  // [time, points applied] per second-ish
    this.pointsApplied = 0;
  }

  set(field, text, attrs = {}) {
    const el = this.fields[field];
    if (!el) return;
    if (el.textContent !== text) el.textContent = text;
    for (const [k, v] of Object.entries(attrs)) el.parentElement.dataset[k] = v;
  }

  /**
   * The agent's store, from /healthz: hidden while it takes writes; while commits fail (disk
   * full, I/O error) "storage full: N points waiting" (the points wait in the trainers' rings).
   * @param storage {ok, error, waiting_points} or null when unknown
   */
  showStorage(storage) {
    const el = this.fields.storage;
    if (!el) return;
    const failing = Boolean(storage && storage.ok === false);
    el.parentElement.hidden = !failing;
    if (!failing) return;
    const what = /full/i.test(storage.error || '') ? 'storage full' : 'storage failing';
    this.set('storage', `${what}: ${formatCount(Number(storage.waiting_points) || 0)} points waiting`, { warn: 'true' });
    el.parentElement.title = storage.error || '';
  }

  /**
   * Shipping to PostgreSQL (an agent started with --postgres), from /healthz: "forwarding N
   * points behind" while shipping fails (a warning; the points wait in the local store) or
   * while a backlog of more than FORWARD_BACKLOG points drains; hidden otherwise.
   * @param forwarding {ok, error, behind_points} or null (no --postgres, or unknown)
   */
  showForwarding(forwarding) {
    const el = this.fields.forwarding;
    if (!el) return;
    const behind = forwarding ? Number(forwarding.behind_points) || 0 : 0;
    const failing = Boolean(forwarding && forwarding.ok === false);
    el.parentElement.hidden = !(failing || behind > FORWARD_BACKLOG);
    if (el.parentElement.hidden) return;
    this.set('forwarding', `forwarding ${formatCount(behind)} points behind`, { warn: failing ? 'true' : 'false' });
    el.parentElement.title = failing ? forwarding.error || '' : '';
  }

  /** Counts live points for the rate display. */
  countLive(n) {
    this.pointsApplied += n;
  }

  /**
   * @param s {run, pointsHeld, seriesCount, lastPoint ({x, y, t} or null), lastLiveAt, chartMode}
   */
  update(s) {
    const now = Date.now();
    this.rateWindow.push([now, this.pointsApplied]);
    while (this.rateWindow.length > 2 && now - this.rateWindow[0][0] > 5000) this.rateWindow.shift();
    const [t0, n0] = this.rateWindow[0];
    const rate = now > t0 ? ((this.pointsApplied - n0) * 1000) / (now - t0) : 0;

    this.set('points', formatCount(s.pointsHeld));
    this.set('series', formatCount(s.seriesCount));
    const mem = performance.memory;
    this.set('heap', mem && Number.isFinite(mem.usedJSHeapSize) ? formatBytes(mem.usedJSHeapSize) : 'n/a');
    const dropped = s.run ? Number(s.run.dropped) || 0 : 0;
    this.set('dropped', s.run ? formatCount(dropped) : '—', { warn: dropped > 0 ? 'true' : 'false' });
    this.set('step', s.lastPoint ? String(s.lastPoint.x) : '—');
    // Without live points yet (a finished run, or one just opened), the newest point's own
    // time says how fresh the data is.
    const updated = s.lastLiveAt || (s.lastPoint ? s.lastPoint.t : NaN);
    this.set('updated', formatAge(updated, now));
    const live = s.run && s.run.status === 'running';
    this.set('rate', live || rate > 0 ? `${formatCount(rate)}/s` : '—');
    this.set('mode', s.chartMode);
  }
}
