// Smoothing of drawn series, as TensorBoard does it: an exponential moving average with
// weight w in [0, 1), debiased at the start (the average starts from 0, so the first values
// are divided by 1 - w^n, the weight the real values carry after n points). Non-finite values
// (NaN, a gap) pass through unsmoothed and do not enter the average, so a NaN never hides.
//
// The setting lives in the page address (?smoothing=0.9, so a shared link keeps it) and in
// localStorage (so a reload or a new tab keeps it).

export const MAX_SMOOTHING = 0.999;
const STORAGE_KEY = 'trainscope.smoothing';

/** A weight from text: a number in [0, MAX_SMOOTHING], else null. */
export function parseSmoothing(text) {
  if (text === null || text === undefined || String(text).trim() === '') return null;
  const w = Number(text);
  if (!Number.isFinite(w) || w < 0) return null;
  return Math.min(MAX_SMOOTHING, w);
}

/**
 * The smoothed copy of points ({x, y, ...} in x order): each gets y = the debiased average
 * and rawY = its own value. Weight 0 returns the values unchanged.
 */
export function smoothPoints(points, weight) {
  const out = new Array(points.length);
  let average = 0;
  let count = 0;
  for (let i = 0; i < points.length; i += 1) {
    const p = points[i];
    const y = p.y;
    let smoothed = y;
    if (Number.isFinite(y)) {
      average = average * weight + (1 - weight) * y;
      count += 1;
      smoothed = weight > 0 ? average / (1 - weight ** count) : y;
    }
    out[i] = { ...p, y: smoothed, rawY: y };
  }
  return out;
}

/** The weight to start with: the address, else what was kept, else 0. */
export function initialSmoothing(search = window.location.search) {
  const fromUrl = parseSmoothing(new URLSearchParams(search).get('smoothing'));
  if (fromUrl !== null) return fromUrl;
  try {
    const kept = parseSmoothing(window.localStorage.getItem(STORAGE_KEY));
    if (kept !== null) return kept;
  } catch {
    // Storage may be disabled: the address alone then.
  }
  return 0;
}

/** Keeps the weight in the address (dropped at 0) and in localStorage. */
export function rememberSmoothing(weight) {
  const url = new URL(window.location.href);
  if (weight > 0) url.searchParams.set('smoothing', String(weight));
  else url.searchParams.delete('smoothing');
  window.history.replaceState(null, '', url);
  try {
    window.localStorage.setItem(STORAGE_KEY, String(weight));
  } catch {
    // Not kept across reloads then; the address still has it.
  }
}
