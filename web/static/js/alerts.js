// Alerts of the shown run (NaN/Inf loss, divergence, a stalled trainer), raised by plugins:
// a banner stack above the chart, newest first, each with its severity, message and step and
// a dismiss button; past alerts come from GET /api/runs/{id}/events when a run is opened,
// new ones live from `alert` messages. Dismissals are remembered per run in localStorage.
// Every alert (dismissed or not) also gets a marker on the chart at its step.
//
// Events: 'change' whenever the set of alerts changed (for the chart markers).
import * as api from './api.js';
import { formatCount, formatTimestamp } from './format.js';
import { explain } from './tap_detail.js';
import { parseTrendKey } from './trend_badges.js';

/** Alerts shown before the stack collapses into "N more". */
const SHOWN_COLLAPSED = 2;
const KIND_LABEL = { nan: 'NaN/Inf', divergence: 'Divergence', stall: 'Stalled' };
const MARKER_LABEL = { nan: 'NaN', divergence: 'diverging', stall: 'stalled' };
const STORAGE_PREFIX = 'trainscope.dismissed.';

/** An alert's identity (the same alert may come from the events list and the socket). */
export function alertKey(a) {
  return `${a.kind}|${a.metric || ''}|${a.step}|${Math.round(Number(a.t_ms) || 0)}`;
}

/** Alert objects from the events list (kind "alert", the alert JSON as text). */
export function alertsFromEvents(events) {
  const out = [];
  for (const e of events) {
    if (e.kind !== 'alert') continue;
    let a;
    try {
      a = typeof e.text === 'string' ? JSON.parse(e.text) : e.text;
    } catch {
      a = { kind: 'alert', severity: 'warning', message: String(e.text) };
    }
    if (!a || typeof a !== 'object') continue;
    if (!Number.isFinite(a.t_ms)) a.t_ms = e.t_ms;
    out.push(a);
  }
  return out;
}

function metricLabel(metric) {
  if (!metric) return '';
  const { metric: m, rank } = parseTrendKey(metric);
  return rank ? `${m} [rank ${rank}]` : m;
}

function loadDismissed(sessionId) {
  try {
    return new Set(JSON.parse(window.localStorage.getItem(STORAGE_PREFIX + sessionId) || '[]'));
  } catch {
    return new Set();
  }
}

function saveDismissed(sessionId, keys) {
  try {
    window.localStorage.setItem(STORAGE_PREFIX + sessionId, JSON.stringify([...keys].slice(-200)));
  } catch {
    // Private mode or full storage: dismissals last until the page is reloaded.
  }
}

export class AlertCenter extends EventTarget {
  /** @param root the banner stack's container (hidden while no alert is showing) */
  constructor(root) {
    super();
    this.root = root;
    this.sessionId = null;
    this.alerts = new Map();  // key -> alert
    this.dismissed = new Set();
    this.expanded = false;
    this.generation = 0;
    this.state = 'none';
    root.hidden = true;
  }

  /** A run is shown (null: none): start over, then load its past alerts. */
  async open(sessionId) {
    const generation = ++this.generation;
    this.sessionId = sessionId;
    this.alerts = new Map();
    this.dismissed = sessionId ? loadDismissed(sessionId) : new Set();
    this.expanded = false;
    this.state = sessionId ? 'loading' : 'none';
    this.changed();
    if (!sessionId) return;
    try {
      const events = await api.getEvents(sessionId);
      if (generation !== this.generation) return;
      for (const a of alertsFromEvents(events)) this.alerts.set(alertKey(a), a);
      this.state = 'loaded';
    } catch (e) {
      if (generation !== this.generation) return;
      this.state = 'error';
      console.warn(`events of ${sessionId}:`, e.message);
    }
    this.changed();
  }

  /** An `alert` message: kept if it is about the shown run. */
  apply(message) {
    if (!this.sessionId || message.session_id !== this.sessionId) return false;
    const key = alertKey(message);
    if (this.alerts.has(key)) return false;
    this.alerts.set(key, message);
    this.changed();
    return true;
  }

  /** Every alert, oldest first. */
  list() {
    return [...this.alerts.values()].sort((a, b) => (a.t_ms || 0) - (b.t_ms || 0));
  }

  active() {
    return this.list().filter((a) => !this.dismissed.has(alertKey(a))).reverse();
  }

  /** Chart markers for every alert of the run (dismissing the banner keeps the marker). */
  markers() {
    const seen = new Set();
    const out = [];
    for (const a of this.list()) {
      if (!Number.isFinite(a.step)) continue;
      const id = `${a.kind}|${a.metric}|${a.step}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const { rank } = parseTrendKey(a.metric || '');
      const label = `${MARKER_LABEL[a.kind] || a.kind}${rank ? ` [r${rank}]` : ''} · ${formatCount(a.step)}`;
      out.push({ step: a.step, t: a.t_ms, severity: a.severity === 'critical' ? 'critical' : 'warning', label, kind: a.kind });
    }
    return out;
  }

  dismiss(key) {
    this.dismissed.add(key);
    if (this.sessionId) saveDismissed(this.sessionId, this.dismissed);
    this.render();
  }

  dismissAll() {
    for (const key of this.alerts.keys()) this.dismissed.add(key);
    if (this.sessionId) saveDismissed(this.sessionId, this.dismissed);
    this.render();
  }

  changed() {
    this.render();
    this.dispatchEvent(new Event('change'));
  }

  render() {
    const active = this.active();
    const root = this.root;
    root.dataset.count = String(active.length);
    root.dataset.total = String(this.alerts.size);
    root.dataset.state = this.state;
    root.hidden = active.length === 0;
    if (active.length === 0) {
      root.replaceChildren();
      return;
    }
    const shown = this.expanded ? active : active.slice(0, SHOWN_COLLAPSED);
    const items = shown.map((a) => this.item(a));
    const more = active.length - shown.length;
    if (active.length > 1) {
      const bar = document.createElement('div');
      bar.className = 'alerts-bar';
      const count = document.createElement('span');
      count.className = 'alerts-count';
      count.dataset.testid = 'alerts-count';
      const critical = active.filter((a) => a.severity === 'critical').length;
      count.textContent = `${active.length} alerts${critical ? ` · ${critical} critical` : ''}`;
      bar.append(count);
      if (more > 0 || this.expanded) {
        const toggle = document.createElement('button');
        toggle.type = 'button';
        toggle.className = 'link-button';
        toggle.dataset.testid = 'alerts-toggle';
        toggle.textContent = this.expanded ? 'Show fewer' : `Show ${more} more`;
        toggle.addEventListener('click', () => {
          this.expanded = !this.expanded;
          this.render();
        });
        bar.append(toggle);
      }
      const all = document.createElement('button');
      all.type = 'button';
      all.className = 'link-button';
      all.dataset.testid = 'alerts-dismiss-all';
      all.textContent = 'Dismiss all';
      all.addEventListener('click', () => this.dismissAll());
      bar.append(all);
      items.push(bar);
    }
    root.replaceChildren(...items);
  }

  item(a) {
    const key = alertKey(a);
    const severity = a.severity === 'critical' ? 'critical' : 'warning';
    const row = document.createElement('div');
    row.className = 'alert';
    row.dataset.testid = 'alert';
    row.dataset.severity = severity;
    row.dataset.kind = a.kind || '';
    row.dataset.step = String(a.step);
    row.dataset.key = key;

    const icon = document.createElement('span');
    icon.className = 'alert-icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = severity === 'critical' ? '!' : '▲';
    const sev = document.createElement('span');
    sev.className = 'alert-severity';
    sev.textContent = `${severity === 'critical' ? 'Critical' : 'Warning'} · ${KIND_LABEL[a.kind] || a.kind || 'alert'}`;
    const message = document.createElement('span');
    message.className = 'alert-message';
    message.dataset.testid = 'alert-message';
    // Plugins name a rank's series "train/loss@rank1"; the page calls it "train/loss [rank 1]".
    message.textContent = (a.message || '').replace(/(\S+)@rank(\d+)/g, '$1 [rank $2]');
    const meta = document.createElement('span');
    meta.className = 'alert-meta';
    const parts = [];
    if (Number.isFinite(a.step)) parts.push(`step ${formatCount(a.step)}`);
    if (a.metric) parts.push(metricLabel(a.metric));
    if (Number.isFinite(a.t_ms)) parts.push(formatTimestamp(a.t_ms).slice(11, 19));
    meta.textContent = parts.join(' · ');
    meta.dataset.testid = 'alert-meta';
    if (Number.isFinite(a.t_ms)) explain(meta, formatTimestamp(a.t_ms));  // the date too, on hover or a tap

    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'alert-dismiss';
    close.dataset.testid = 'alert-dismiss';
    close.setAttribute('aria-label', `Dismiss: ${a.message || 'alert'}`);
    close.title = 'Dismiss';
    close.textContent = '×';
    close.addEventListener('click', () => this.dismiss(key));
    row.append(icon, sev, message, meta, close);
    return row;
  }
}
