// GET /api/model-info: the model's config and layer tree for a run.
import { ApiError } from './api.js';

/**
 * Resolves to {session_id, config, tree, total_params, node_count}. Throws an ApiError whose
 * `status` tells the cases apart: 404 with `noModel` true when the run never reported its
 * model, 422 when what it reported is malformed (the message says what is wrong), 0 for a
 * network error. `sessionId` null: the newest run.
 */
export async function getModelInfo(sessionId, { signal } = {}) {
  const query = sessionId ? `?session=${encodeURIComponent(sessionId)}` : '';
  let response;
  try {
    response = await fetch(`/api/model-info${query}`, { signal, headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `network error: ${e.message}`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: reported by status below
  }
  if (!response.ok) {
    const error = new ApiError(response.status, (body && body.error) || `HTTP ${response.status}`);
    error.noModel = response.status === 404 && /no model info/i.test(error.message);
    throw error;
  }
  if (!body || typeof body !== 'object' || !body.tree || typeof body.tree !== 'object') {
    throw new ApiError(422, 'the agent returned model info without a layer tree');
  }
  return body;
}
