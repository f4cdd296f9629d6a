// The chart's x axis, as TensorBoard offers it: the step (default), the wall time, or the
// time relative to the run's first point. Pure functions (no chart, no DOM beyond the page
// address and localStorage), shared by the chart, the markers, the tooltip and zoom.
//
// Relative time counts from the run's first point (the earliest time of the first points of
// the run's series the page holds), as TensorBoard's "relative" does and as the statistics
// plugin's elapsed time does: runs overlaid in relative time all start at 0, whatever delay
// each had between starting and logging. Each run overlaid to compare has its own origin.
//
// Times are Unix milliseconds on the axis (wall) or milliseconds since the origin
// (relative); ticks fall on round clock times or durations and are labelled as such.
//
// The choice lives in the page address (?xaxis=wall, so a shared link keeps it; the default
// "step" is left out) and in localStorage (so a reload or a new tab keeps it).

export const X_MODES = ['step', 'wall', 'relative'];
const STORAGE_KEY = 'trainscope.xaxis';

/** A mode from text ("step", "wall", "relative"), else null. */
export function parseXAxis(text) {
  const v = String(text ?? '').trim().toLowerCase();
  return X_MODES.includes(v) ? v : null;
}

/** The mode to start with: the address, else what was kept, else "step". */
export function initialXAxis(search = window.location.search) {
  const fromUrl = parseXAxis(new URLSearchParams(search).get('xaxis'));
  if (fromUrl) return fromUrl;
  try {
    const kept = parseXAxis(window.localStorage.getItem(STORAGE_KEY));
    if (kept) return kept;
  } catch {
    // Storage may be disabled: the address alone then.
  }
  return 'step';
}

/** Keeps the mode in the address (dropped for "step") and in localStorage. */
export function rememberXAxis(mode) {
  const url = new URL(window.location.href);
  if (mode !== 'step') url.searchParams.set('xaxis', mode);
  else url.searchParams.delete('xaxis');
  window.history.replaceState(null, '', url);
  try {
    window.localStorage.setItem(STORAGE_KEY, mode);
  } catch {
    // Not kept across reloads then; the address still has it.
  }
}

/** The axis title (also what an exported PNG shows under the plot). */
export function axisTitle(mode) {
  if (mode === 'wall') return 'wall time';
  if (mode === 'relative') return 'relative time (since the run\'s first point)';
  return 'step';
}

/**
 * The origin of a run's relative time: the earliest time among the first points of its
 * series (each series is held sorted by step, and its first point always survives
 * decimation). NaN when nothing is held yet.
 */
export function originOf(seriesList) {
  let origin = Infinity;
  for (const s of seriesList) {
    const p = s.points[0];
    if (p && Number.isFinite(p.t) && p.t < origin) origin = p.t;
  }
  return Number.isFinite(origin) ? origin : NaN;
}

/** A point's x in `mode`: its step, its time, or its time since `origin`. */
export function xOf(point, mode, origin) {
  if (mode === 'wall') return point.t;
  if (mode === 'relative') return point.t - origin;
  return point.x;
}

/**
 * Points ({x: step, y, t, seq}) as drawn in a time mode: fresh objects {x: time, y, t, seq,
 * step}, sorted by x (Chart.js takes unparsed data as sorted; a resumed run can log a
 * later step at an earlier time than one it logged before).
 */
export function mapPoints(points, mode, origin) {
  const out = new Array(points.length);
  let sorted = true;
  for (let i = 0; i < points.length; i += 1) {
    const p = points[i];
    out[i] = { x: xOf(p, mode, origin), y: p.y, t: p.t, seq: p.seq, step: p.x };
    if (i > 0 && out[i].x < out[i - 1].x) sorted = false;
  }
  return sorted ? out : out.sort((a, b) => a.x - b.x);
}

/**
 * The step range to fetch in full resolution for a visible time range {from, to} (axis
 * units), read off the held points of the series holding most points inside it (all of a
 * run's series share its steps; a sparse one, validation every 100 steps, would stretch the
 * range far past the view): its points inside, widened by its held point on either side (so
 * the line reaches the edges, and a stretch the held points coarsened is covered whole).
 * Null when no series holds a point near the range.
 */
export function stepRangeForTimes(range, seriesList, mode, origin) {
  let best = null;
  for (const s of seriesList) {
    const found = heldStepsAround(s.points, range, mode, origin);
    if (found && (!best || found.count > best.count)) best = found;
  }
  return best && { from: Math.floor(best.from), to: Math.ceil(best.to) };
}

/** {from, to, count}: steps of a series' held points in a time range and its two neighbours. */
function heldStepsAround(points, range, mode, origin) {
  let from = Infinity;
  let to = -Infinity;
  let count = 0;
  const take = (p) => {
    if (!p) return;
    if (p.x < from) from = p.x;
    if (p.x > to) to = p.x;
  };
  for (let i = 0; i < points.length; i += 1) {
    const x = xOf(points[i], mode, origin);
    if (x < range.from || x > range.to) continue;
    count += 1;
    take(points[i - 1]);
    take(points[i]);
    take(points[i + 1]);
  }
  if (count === 0) {
    // Zoomed in between two held points: those two.
    const after = points.findIndex((p) => xOf(p, mode, origin) > range.to);
    if (after <= 0) return null;
    take(points[after - 1]);
    take(points[after]);
  }
  return { from, to, count };
}

// ---- ticks ----

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Tick spacings that read as round times. */
const TIME_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

/** The smallest round spacing giving at most `maxTicks` ticks over `span` ms. */
export function timeTickStep(span, maxTicks) {
  const want = span / Math.max(1, maxTicks);
  const found = TIME_STEPS.find((s) => s >= want);
  return found || Math.ceil(want / (28 * DAY)) * 28 * DAY;
}

/**
 * Tick values over [min, max] for a time mode: multiples of a round spacing; wall ticks fall
 * on round local clock times (whole hours and days of the viewer's time zone).
 * Returns {values, step}.
 */
export function timeTicks(min, max, mode, maxTicks = 8) {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || max <= min) return { values: [], step: 0 };
  const step = timeTickStep(max - min, maxTicks);
  // Local time zone offset (ms east of UTC) at the range's start: shifts wall ticks so that
  // hours and days are the viewer's.
  const shift = mode === 'wall' ? -new Date(min).getTimezoneOffset() * MINUTE : 0;
  const values = [];
  for (let v = Math.ceil((min + shift) / step) * step - shift; v <= max && values.length < 1000; v += step) {
    values.push(v);
  }
  return { values, step };
}

const pad = (n, width = 2) => String(n).padStart(width, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A duration in ms as h:mm:ss (tenths below a second's spacing), or "3d 4h" from a day on. */
export function formatDuration(ms, step = SECOND) {
  if (!Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs >= DAY) {
    const d = Math.floor(abs / DAY);
    const h = Math.floor((abs % DAY) / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return `${sign}${d}d${h ? ` ${h}h` : ''}${m ? ` ${m}m` : ''}`;
  }
  const total = Math.floor(abs / SECOND);
  const frac = step < SECOND ? `.${pad(Math.round(abs % SECOND), 3).replace(/0+$/, '') || '0'}` : '';
  return `${sign}${Math.floor(total / 3600)}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}${frac}`;
}

/** A wall time as local clock time; with the date when the range spans days. */
export function formatClock(ms, { step = SECOND, withDate = false } = {}) {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const date = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  if (step >= DAY) return date;
  let clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (step < MINUTE) clock += `:${pad(d.getSeconds())}`;
  if (step < SECOND) clock += `.${pad(d.getMilliseconds(), 3)}`;
  return withDate ? `${date} ${clock}` : clock;
}

/** True when [min, max] covers more than one local calendar day. */
export function spansDays(min, max) {
  return new Date(min).toDateString() !== new Date(max).toDateString();
}

/** A tick's label in `mode` (tick = {step, withDate} from the axis's last build). */
export function formatTick(value, mode, tick = {}) {
  if (mode === 'wall') return formatClock(value, tick);
  if (mode === 'relative') return formatDuration(value, tick.step);
  return value;
}
