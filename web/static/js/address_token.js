// Takes the access token out of the address bar as soon as the page starts.
//
// The agent's printed URL carries ?token= so one click opens the dashboard; the agent answers
// that first request with an HttpOnly cookie, and every later request (fetch, WebSocket)
// authenticates with the cookie instead. Left in the address bar, the token would end up in
// the history, in bookmarks, in a shared screenshot and in every URL the page builds from
// location (rememberRun and friends). ?expired=1 (set when the page was sent to the sign-in
// screen) has done its job once the dashboard loads, so it goes too.
// main.js imports this module first: its top level runs before any other module's.

/** Query parameters the dashboard never keeps in its address. */
export const DROPPED_PARAMS = ['token', 'expired'];

/**
 * `href` without the dropped parameters (other parameters and the hash kept, in order), or
 * null when it has none of them.
 */
export function addressWithoutToken(href) {
  const url = new URL(href);
  if (!DROPPED_PARAMS.some((name) => url.searchParams.has(name))) return null;
  for (const name of DROPPED_PARAMS) url.searchParams.delete(name);
  return url.href;
}

/** Rewrites the current address without reloading (nothing to do for most loads). */
export function dropTokenFromAddress(loc = window.location, hist = window.history) {
  const clean = addressWithoutToken(loc.href);
  if (clean) hist.replaceState(hist.state, '', clean);
}

// In the page (not when node imports the module for its unit tests).
if (typeof window !== 'undefined' && window.location && window.history) dropTokenFromAddress();
