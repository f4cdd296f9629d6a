// The runs table's data side, free of the DOM: which columns exist (fixed ones, the latest and
// best of each chosen metric, one per flattened config key), what a cell holds and shows, the
// sort order, the text filter, and which config keys differ between selected runs.
import { formatElapsed, formatValue } from './format.js';

/** Columns every run has, in their order; `config:` and metric columns follow. */
export const FIXED_COLUMNS = [
  { key: 'status', label: 'Status' },
  { key: 'name', label: 'Name' },
  { key: 'started', label: 'Started' },
  { key: 'duration', label: 'Duration' },
  { key: 'host', label: 'Host' },
  { key: 'ranks', label: 'Ranks' },
  { key: 'points', label: 'Points' },
  { key: 'tags', label: 'Tags' },
  { key: 'notes', label: 'Notes' },
];

/** Every column of a table answer: fixed, then latest/best per metric, then config keys (sorted). */
export function columnsOf(table) {
  const columns = FIXED_COLUMNS.map((c) => ({ ...c, kind: 'fixed' }));
  for (const m of table.metrics || []) {
    columns.push({ key: `latest:${m.name}`, label: `latest ${m.name}`, kind: 'metric' });
    columns.push({ key: `best:${m.name}`, label: `best ${m.name} (${m.best})`, kind: 'metric' });
  }
  for (const key of configKeys(table.runs || [])) columns.push({ key: `config:${key}`, label: key, kind: 'config' });
  return columns;
}

/** The union of the runs' flattened config keys, sorted. */
export function configKeys(runs) {
  const keys = new Set();
  for (const run of runs) for (const key of Object.keys(run.config || {})) keys.add(key);
  return [...keys].sort();
}

export function durationOf(run, now = Date.now()) {
  return run.status === 'running' ? now - run.started_ms : run.duration_ms;
}

/** A config value as text: strings as they are, anything else as JSON. */
export function configText(value) {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What a cell sorts by: a number, a string, or null (missing; sorted last either way). */
export function cellValue(run, key, now = Date.now()) {
  switch (key) {
    case 'status': return run.status;
    case 'name': return run.name || run.session_id;
    case 'started': return run.started_ms;
    case 'duration': return durationOf(run, now);
    case 'host': return run.host;
    case 'ranks': return (run.ranks || []).length;
    case 'points': return run.points;
    case 'tags': return (run.tags || []).join(' ') || null;
    case 'notes': return run.notes || null;
    default: break;
  }
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const name = key.slice(colon + 1);
  if (kind === 'config') {
    const v = (run.config || {})[name];
    if (v === undefined || v === null) return null;
    return typeof v === 'number' || typeof v === 'string' ? v : configText(v);
  }
  const f = (run.figures || {})[name];
  if (!f) return null;
  const v = kind === 'best' ? f.best : f.latest;
  return v === null || v === undefined ? null : v;
}

/** What a cell shows. */
export function cellText(run, key, now = Date.now()) {
  const v = cellValue(run, key, now);
  switch (key) {
    case 'started': return new Date(run.started_ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    case 'duration': return formatElapsed(v);
    case 'points': return Number(v || 0).toLocaleString();
    case 'ranks': return String(v || 0);
    default: break;
  }
  if (key.startsWith('latest:') || key.startsWith('best:')) {
    const f = (run.figures || {})[key.slice(key.indexOf(':') + 1)];
    if (!f) return '—';
    return v === null ? 'NaN' : formatValue(v, 4);
  }
  if (key.startsWith('config:')) return configText((run.config || {})[key.slice(7)]);
  return v === null || v === undefined ? '' : String(v);
}

// Made at the first sort, not when the page loads: a collator with these options costs the
// page's start tens of milliseconds of ICU set-up, and most page loads never sort the table.
let collator = null;

/** Missing values last whatever the direction; numbers before strings; strings naturally. */
export function compareCells(a, b, dir = 1) {
  const missingA = a === null || a === undefined;
  const missingB = b === null || b === undefined;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return dir * (a - b);
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  if (!collator) collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  return dir * collator.compare(a, b);
}

/** A sorted copy; ties keep the newest first. */
export function sortRuns(runs, key, dir, now = Date.now()) {
  const keyed = runs.map((run) => ({ run, v: cellValue(run, key, now) }));
  keyed.sort((x, y) => compareCells(x.v, y.v, dir) || y.run.started_ms - x.run.started_ms);
  return keyed.map((k) => k.run);
}

/** The filter box: every word must appear in the name, trainer's name, notes, tags, host or id. */
export function runMatchesFilter(run, text, status = '') {
  if (status && run.status !== status) return false;
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = [run.name, run.original_name, run.notes, (run.tags || []).join(' '), run.host, run.session_id]
    .join('\n').toLowerCase();
  return words.every((w) => hay.includes(w));
}

/**
 * Config keys of the runs split into those whose values differ (a key some runs lack counts
 * as differing) and those all of them share.
 */
export function configDifferences(runs) {
  const differ = [];
  const same = [];
  for (const key of configKeys(runs)) {
    const values = new Set(runs.map((r) => {
      const v = (r.config || {})[key];
      return v === undefined ? '\u0000missing' : JSON.stringify(v);
    }));
    (values.size > 1 ? differ : same).push(key);
  }
  return { differ, same };
}
