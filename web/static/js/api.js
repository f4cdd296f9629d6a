// REST client for the agent's /api routes. Every function resolves to parsed JSON or throws
// an ApiError carrying the HTTP status and the agent's {"error": ...} message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** GET path -> parsed JSON; a network failure is ApiError status 0, an HTTP error its status. */
export async function getJson(path, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, { signal, headers: { Accept: 'application/json' }, cache: 'no-store' });
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
