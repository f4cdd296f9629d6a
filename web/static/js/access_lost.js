// What the page does when the agent stops accepting its token: it goes to the sign-in screen.
//
// The token lives in an HttpOnly cookie the page cannot read; it goes stale when the agent
// restarts with a new token (the default: a fresh one per start). Every request then answers
// 401, and retrying forever would show a dashboard that never recovers. GET / answers the
// sign-in page for a stale cookie; ?expired=1 lets it say why the user landed there. The
// other parameters (the run shown, compared runs, ...) ride along so that signing in again
// returns to the same view.

let leaving = false;

/** The sign-in address for a page at `href`: same parameters (no token), plus expired=1. */
export function signInAddress(href) {
  const url = new URL(href);
  url.searchParams.delete('token');
  url.searchParams.set('expired', '1');
  return `/${url.search}${url.hash}`;
}

/**
 * Leaves for the sign-in screen (once: several requests can fail at the same moment).
 * replace(): the dead dashboard does not stay in the history for Back to return to.
 */
export function accessLost(loc = window.location) {
  if (leaving) return;
  leaving = true;
  loc.replace(signInAddress(loc.href));
}
