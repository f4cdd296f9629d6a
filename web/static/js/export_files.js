// What every export shares: file names (run name + local time), handing a URL or a Blob to
// the browser as a download, the notice that says what was exported, and the run's CSV.
//
// The full CSV is the agent's GET /api/runs/{id}/export.csv, opened as a plain download so
// the browser streams it to disk however large the run is. Only when the agent cannot be
// reached does the page write the points it holds itself (same columns) and say so.
import { ApiError, getRun, listPlugins } from './api.js';

export const CSV_HEADER = 'session_id,metric,step,timestamp,value,rank';

const pad = (n) => String(n).padStart(2, '0');

/** Local time as YYYYMMDD-HHMMSS: sorts by time, and is valid in every file system. */
export function fileStamp(date = new Date()) {
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/**
 * A run name made safe for any file system: letters, digits, '.', '_' and '-' only (others
 * become '-'), no leading dots (hidden files), at most 80 characters; "run" if nothing is left.
 */
export function safeName(name) {
  const s = String(name || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-{2,}/g, '-').replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80).replace(/[-.]+$/, '');
  return s || 'run';
}

/** "<run>-<YYYYMMDD-HHMMSS>[-suffix].<ext>" */
export function exportFileName(runName, ext, { suffix = '', date = new Date() } = {}) {
  return `${safeName(runName)}-${fileStamp(date)}${suffix ? `-${suffix}` : ''}.${ext}`;
}

/** Starts a download of `url` under `fileName` (a same-origin URL streams to disk). */
export function downloadUrl(url, fileName) {
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

/** Downloads a Blob; its object URL is freed once the browser has surely read it. */
export function downloadBlob(blob, fileName) {
  const url = URL.createObjectURL(blob);
  downloadUrl(url, fileName);
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---- the notice ----

let noticeEl = null;
let noticeTimer = null;

/** Creates the notice's live region (call once at start: a region must exist before it speaks). */
export function initExportNotice(parent = document.body) {
  if (noticeEl) return noticeEl;
  noticeEl = document.createElement('div');
  noticeEl.className = 'export-notice';
  noticeEl.dataset.testid = 'export-notice';
  noticeEl.setAttribute('role', 'status');
  noticeEl.hidden = true;
  const text = document.createElement('span');
  text.dataset.role = 'text';
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'link-button';
  close.textContent = 'Dismiss';
  close.addEventListener('click', () => showExportNotice(''));
  noticeEl.append(text, close);
  parent.append(noticeEl);
  return noticeEl;
}

/**
 * Says what an export did. kind: "info" (goes away after a while), "warn" or "error" (stay
 * until dismissed or replaced). An empty text hides it.
 */
export function showExportNotice(text, kind = 'info') {
  const el = initExportNotice();
  clearTimeout(noticeTimer);
  el.dataset.kind = kind;
  el.querySelector('[data-role=text]').textContent = text;
  el.hidden = !text;
  if (text && kind === 'info') noticeTimer = setTimeout(() => showExportNotice(''), 8000);
}

// ---- CSV ----

/**
 * A CSV text cell (run id, metric name), written as the agent's export writes it: a leading '
 * when it starts with = + - @ tab or CR (a spreadsheet would run it as a formula), then
 * quoted only when it holds , " CR or LF. Numbers never go through here: -1.5 stays -1.5.
 */
export function csvText(s) {
  const v = /^[=+\-@\t\r]/.test(String(s)) ? `'${s}` : String(s);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The points the page holds as CSV, in the agent's columns. The store keeps NaN and Inf as
 * null (which of them it was is gone), so their value field is left empty.
 * @param seriesList  Series of one run ({metric, rank, points: [{x, y, t}]})
 * @returns {blob, rows}
 */
export function seriesCsv(sessionId, seriesList) {
  const lines = [CSV_HEADER];
  const session = csvText(sessionId);
  for (const s of seriesList) {
    const metric = csvText(s.metric);
    for (const p of s.points) {
      const time = Number.isFinite(p.t) ? new Date(p.t).toISOString() : '';
      const value = p.y === null || p.y === undefined ? '' : String(p.y);
      lines.push(`${session},${metric},${p.x},${time},${value},${s.rank}`);
    }
  }
  return { blob: new Blob([`${lines.join('\n')}\n`], { type: 'text/csv;charset=utf-8' }), rows: lines.length - 1 };
}

const PREFLIGHT_MS = 5000;

/**
 * Exports run `run` as CSV. Asks the agent first (cheap requests: the run, and whether the
 * export plugin is enabled) so that the download, once started, is the real file; a HEAD of
 * the export itself would make the agent read the whole run once more.
 * - agent answers and can export: the browser downloads export.csv (every point, streamed);
 * - agent unreachable: the page's own points (seriesList) are exported, and the notice says so;
 * - the agent knows no such run, or cannot export: an error notice, no file.
 * Returns {source: 'agent'|'page'|'none', requestedName | fileName, rows?, error?}.
 */
export async function exportRunCsv(run, seriesList, { date = new Date() } = {}) {
  const id = run.session_id;
  let fresh;
  let plugins;
  try {
    const signal = AbortSignal.timeout(PREFLIGHT_MS);
    [fresh, plugins] = await Promise.all([getRun(id, { signal }), listPlugins({ signal })]);
  } catch (e) {
    const unreachable = (e instanceof ApiError && e.status === 0) || e.name === 'TimeoutError' || e.name === 'AbortError';
    if (!unreachable) {
      const why = !(e instanceof ApiError) ? e.message
        : e.status === 404 ? `the agent has no run ${id} (was its data removed?)` : `the agent answered HTTP ${e.status}: ${e.message}`;
      showExportNotice(`CSV export failed: ${why}.`, 'error');
      return { source: 'none', error: e.message };
    }
    return exportPageCsv(run, seriesList, date);
  }
  const exporter = plugins.find((p) => p.name === 'export');
  if (!exporter || exporter.state !== 'enabled') {
    const why = !exporter ? 'its export plugin is not loaded' : `its export plugin is ${exporter.state}${exporter.reason ? ` (${exporter.reason})` : ''}`;
    showExportNotice(`CSV export failed: ${why}. See GET /api/plugins.`, 'error');
    return { source: 'none', error: why };
  }
  // The agent's Content-Disposition names the file and beats the download attribute: it is
  // asked for the same name (it keeps only [A-Za-z0-9._-], which exportFileName already does).
  const requestedName = exportFileName(fresh.name || run.name, 'csv', { date });
  downloadUrl(`/api/runs/${encodeURIComponent(id)}/export.csv?filename=${encodeURIComponent(requestedName)}`, requestedName);
  const n = Number(fresh.points);
  const count = Number.isFinite(n) ? ` (${n.toLocaleString('en-US')} points${fresh.status === 'running' ? ' so far' : ''})` : '';
  showExportNotice(`Exporting every point of the run${count} from the agent.`, 'info');
  return { source: 'agent', requestedName, rows: Number.isFinite(n) ? n : null };
}

/** The agent is out of reach: the page writes what it holds, and says it is not the full run. */
function exportPageCsv(run, seriesList, date) {
  const { blob, rows } = seriesCsv(run.session_id, seriesList);
  if (rows === 0) {
    showExportNotice('Agent unreachable, and this page holds no points of the run: nothing to export.', 'error');
    return { source: 'none', rows: 0 };
  }
  const fileName = exportFileName(run.name, 'csv', { suffix: 'page', date });
  downloadBlob(blob, fileName);
  const total = Number(run.points);
  const fewer = Number.isFinite(total) && rows < total;
  showExportNotice(`Agent unreachable: exported the ${rows.toLocaleString('en-US')} points this page holds` +
    `${fewer ? ` (downsampled; the run has ${total.toLocaleString('en-US')})` : ''}, not the full run.`, 'warn');
  return { source: 'page', fileName, rows };
}
