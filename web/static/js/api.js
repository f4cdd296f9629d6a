// REST client for the agent's /api routes. Every function resolves to parsed JSON or throws
// an ApiError carrying the HTTP status and the agent's {"error": ...} message.
//
// Access: requests carry no token. The agent set an HttpOnly cookie when the page was opened
// with ?token=, and a same-origin fetch sends it (credentials: 'same-origin', the default,
// spelled out below so nobody "fixes" it to 'omit'). A 401 means the cookie went stale (the
// agent restarted with a new token): every request is answered here, so this is where the
// page learns it and leaves for the sign-in screen.
import { accessLost } from './access_lost.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** GET path -> parsed JSON; a network failure is ApiError status 0, an HTTP error its status. */
export function getJson(path, { signal } = {}) {
  return requestJson('GET', path, { signal });
}

/** method path [JSON body] -> parsed JSON, with getJson's errors. */
async function requestJson(method, path, { signal, json } = {}) {
  let response;
  const headers = { Accept: 'application/json' };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  try {
    response = await fetch(path, {
      method, signal, headers, cache: 'no-store', credentials: 'same-origin',
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `network error: ${e.message}`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: keep body null and report the status below.
  }
  if (response.status === 401) accessLost();
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.error) || `HTTP ${response.status}`);
  }
  return body;
}

/** GET /api/runs -> [run, ...], newest first. */
export async function listRuns(options) {
  const body = await getJson('/api/runs', options);
  return body.runs || [];
}

/**
 * GET /api/runs?limit=&q=&status=&cursor= -> {runs, next_cursor}: one page, newest first; q
 * matches the name (the user's or the trainer's), notes and tags.
 */
export function listRunsPage({ limit, q, status, cursor, signal } = {}) {
  const params = new URLSearchParams();
  if (limit) params.set('limit', String(limit));
  if (q) params.set('q', q);
  if (status) params.set('status', status);
  if (cursor) params.set('cursor', cursor);
  return getJson(`/api/runs?${params}`, { signal });
}

/**
 * GET /api/runs/table -> {runs: [{..., config: {"a.b": v}, figures: {metric: {latest, best}}}],
 * metrics: [{name, best: "min"|"max"}], metric_names, more}.
 */
export function getRunsTable({ metrics = ['val/loss'], limit, signal } = {}) {
  const params = new URLSearchParams({ metrics: metrics.join(',') });
  if (limit) params.set('limit', String(limit));
  return getJson(`/api/runs/table?${params}`, { signal });
}

/** PATCH /api/runs/{id} with {name?, notes?, tags?} -> the run as it now is (400 says what is wrong). */
export function editRun(sessionId, fields) {
  return requestJson('PATCH', `/api/runs/${encodeURIComponent(sessionId)}`, { json: fields });
}

/** DELETE /api/runs/{id}: the run and all it stored; 409 while it is live. */
export function deleteRun(sessionId) {
  return requestJson('DELETE', `/api/runs/${encodeURIComponent(sessionId)}`);
}

/** GET /api/runs/{id} -> run object with `config`. */
export function getRun(sessionId, options) {
  return getJson(`/api/runs/${encodeURIComponent(sessionId)}`, options);
}

/**
 * GET /api/runs/{id}/metrics/{name} -> {points: [[step, t_ms, value|null]...], seq, total,
 * downsampled, rank}. `from`/`to` bound the step range (inclusive); `maxPoints` caps the
 * response (the agent downsamples with min/max buckets beyond it).
 */
export function getSeries(sessionId, metric, { from, to, maxPoints, rank, signal } = {}) {
  const params = new URLSearchParams();
  if (Number.isFinite(from)) params.set('from', String(Math.floor(from)));
  if (Number.isFinite(to)) params.set('to', String(Math.ceil(to)));
  if (Number.isFinite(maxPoints)) params.set('max_points', String(maxPoints));
  if (Number.isInteger(rank) && rank >= 0) params.set('rank', String(rank));
  const query = params.toString();
  return getJson(`/api/runs/${encodeURIComponent(sessionId)}/metrics/${encodeURIComponent(metric)}` +
    (query ? `?${query}` : ''), { signal });
}

/** GET /api/runs/{id}/analytics -> {session_id, stats: {plugin: {...}, ...}} (empty without plugins). */
export function getAnalytics(sessionId, options) {
  return getJson(`/api/runs/${encodeURIComponent(sessionId)}/analytics`, options);
}

/**
 * GET /api/runs/{id}/events -> [{rank, t_ms, kind, text}, ...], oldest first. Alerts have
 * kind "alert" and carry the alert message (JSON) as their text.
 */
export async function getEvents(sessionId, options) {
  const body = await getJson(`/api/runs/${encodeURIComponent(sessionId)}/events`, options);
  return (body && body.events) || [];
}

/**
 * The newest point of a series (the last one logged): [step, t_ms, value|null], or null when
 * it has none. ?last=1 is one index lookup on the agent, however long the series.
 */
export async function getLatestPoint(sessionId, metric, { rank, signal } = {}) {
  const params = new URLSearchParams({ last: '1' });
  if (Number.isInteger(rank) && rank >= 0) params.set('rank', String(rank));
  const r = await getJson(`/api/runs/${encodeURIComponent(sessionId)}/metrics/${encodeURIComponent(metric)}?${params}`, { signal });
  return r.points && r.points.length ? r.points[0] : null;
}

/** GET /api/plugins -> [{name, path, state, reason, ...}, ...]. */
export async function listPlugins(options) {
  const body = await getJson('/api/plugins', options);
  return (body && body.plugins) || [];
}

/**
 * Asks the agent whether it still accepts the page's cookie; a 401 sends the page to the
 * sign-in screen (getJson). For the WebSocket's reconnect path: a refused upgrade looks to
 * the page like any failed connection, only an HTTP answer tells a 401 apart. /api/plugins
 * is small and needs the token. Never throws: an agent that is down is the socket's business.
 */
export async function checkAccess() {
  try {
    await getJson('/api/plugins');
  } catch {
    // 401 handled in getJson; anything else (agent down, 5xx) is not an access problem.
  }
}
