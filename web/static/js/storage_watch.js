// Polls the agent's /healthz for the state of its store (disk full and how many points wait
// in the trainers' rings) and hands it to `show`. Polling, not a WebSocket message: /healthz
// already says it, and a storage outage lasts seconds to hours, so every 2 s is live enough.
import { getJson } from './api.js';

export const STORAGE_POLL_MS = 2000;

/** Calls show(storage | null) now and every STORAGE_POLL_MS; returns a stop function. */
export function watchStorage(show, intervalMs = STORAGE_POLL_MS) {
  let stopped = false;
  let timer = null;
  async function poll() {
    try {
      const body = await getJson('/healthz');
      if (!stopped) show(body && body.storage ? body.storage : null, body && body.forwarding ? body.forwarding : null);
    } catch {
      if (!stopped) show(null, null);  // agent unreachable: the connection badge says so
    }
    if (!stopped) timer = setTimeout(poll, intervalMs);
  }
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
