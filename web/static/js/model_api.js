// GET /api/model-info: the model's config and layer tree for a run.
import { ApiError, getJson } from './api.js';

/**
 * Resolves to {session_id, config, tree, total_params, node_count}. Throws an ApiError whose
 * `status` tells the cases apart: 404 with `noModel` true when the run never reported its
 * model, 422 when what it reported is malformed (the message says what is wrong), 0 for a
 * network error. `sessionId` null: the newest run.
 */
export async function getModelInfo(sessionId, { signal } = {}) {
  const query = sessionId ? `?session=${encodeURIComponent(sessionId)}` : '';
  let body;
  try {
    body = await getJson(`/api/model-info${query}`, { signal });
  } catch (e) {
    if (e instanceof ApiError) e.noModel = e.status === 404 && /no model info/i.test(e.message);
    throw e;
  }
  if (!body || typeof body !== 'object' || !body.tree || typeof body.tree !== 'object') {
    throw new ApiError(422, 'the agent returned model info without a layer tree');
  }
  return body;
}
