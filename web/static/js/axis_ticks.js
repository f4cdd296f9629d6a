// Labels of numeric chart axes (every linear and logarithmic axis of every chart).
// The same digits Chart.js's own tick formatters choose (decimals from the tick spacing,
// scientific notation beyond 1e15 or below 1e-4, log axes labelled at 1, 2, 3, 5 times a
// power of ten), written without Intl: the first Intl formatter a page makes loads ICU data,
// 30-60 ms of main thread, which the first chart of a page cannot afford. Grouping is the
// page's ("1,234,567", as format.js writes counts), not the browser locale's.
// Pure functions: no DOM, no state.

/** Digits after the point for ticks `delta` apart (Chart.js: -floor(log10|delta|), 0..20). */
function decimalsFor(delta) {
  const log = Math.log10(Math.abs(delta));
  return Number.isFinite(log) ? Math.max(Math.min(-Math.floor(log), 20), 0) : 1;
}

/** The spacing a tick's label must resolve (Chart.js's calculateDelta). */
function tickDelta(value, ticks) {
  let delta = ticks.length > 3 ? ticks[2].value - ticks[1].value : ticks[1].value - ticks[0].value;
  // A tick off the grid (a zoomed axis's end): its own fraction decides.
  if (Math.abs(delta) >= 1 && value !== Math.floor(value)) delta = value - Math.floor(value);
  return delta;
}

/**
 * |value| as a digit string and where its point goes: 0.00275 -> {digits: "275", point: -2}
 * (value = 0.digits × 10^point). The shortest form that reads back as `value`: the decimal
 * a person reads and Intl rounds, not toFixed's binary expansion (0.0027499999...).
 */
function decimalDigits(value) {
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e');
  return { digits: mantissa.replace('.', ''), point: Number(exponent) + 1 };
}

/** The first `keep` digits rounded half away from zero (Intl's halfExpand), as a string. */
function roundDigits(digits, keep) {
  if (keep >= digits.length) return digits + '0'.repeat(keep - digits.length);
  if (keep < 0) return '0';
  const head = BigInt(digits.slice(0, keep) || '0');
  return String(digits[keep] >= '5' ? head + 1n : head);
}

/** `value` with `decimals` fixed digits and thousands grouped: 1234567.5 -> "1,234,567.5". */
function fixedGrouped(value, decimals) {
  const { digits, point } = decimalDigits(value);
  const scaled = roundDigits(digits, point + decimals).padStart(decimals + 1, '0');
  const whole = scaled.slice(0, scaled.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = decimals ? `${whole}.${scaled.slice(-decimals)}` : whole;
  return value < 0 ? `-${text}` : text;  // -0.0001 at 2 decimals is "-0.00", as Intl writes it
}

/** "1.50E-5": Intl's scientific form, the mantissa with `decimals` fixed digits. */
function scientific(value, decimals) {
  const { digits, point } = decimalDigits(value);
  let mantissa = roundDigits(digits, decimals + 1);
  let exponent = point - 1;
  if (mantissa.length > decimals + 1) {  // 9.99 rounded up to 10.0: one more power of ten
    mantissa = mantissa.slice(0, decimals + 1);
    exponent += 1;
  }
  const text = decimals ? `${mantissa[0]}.${mantissa.slice(1)}` : mantissa;
  return `${value < 0 ? '-' : ''}${text}E${exponent}`;
}

/**
 * A linear axis's label for `value` among `ticks` ([{value}], in order), as Chart.js's
 * default (Ticks.formatters.numeric) would write it in en-US.
 */
export function numericTick(value, ticks) {
  if (value === 0) return '0';
  let delta = value;
  let sci = false;
  if (ticks.length > 1) {
    const maxTick = Math.max(Math.abs(ticks[0].value), Math.abs(ticks[ticks.length - 1].value));
    sci = maxTick < 1e-4 || maxTick > 1e15;
    delta = tickDelta(value, ticks);
  }
  const decimals = decimalsFor(delta);
  return sci ? scientific(value, decimals) : fixedGrouped(value, decimals);
}

/** A logarithmic axis's label: only 1, 2, 3, 5, 10, 15 × 10^n, and the last fifth of ticks. */
export function logTick(value, index, ticks) {
  if (value === 0) return '0';
  const remain = value / 10 ** Math.floor(Math.log10(value));
  if ([1, 2, 3, 5, 10, 15].includes(remain) || index > 0.8 * ticks.length) return numericTick(value, ticks);
  return '';
}

/**
 * Makes every linear and logarithmic axis of `Chart` (window.Chart) label its ticks with
 * these; an axis's own ticks.callback still wins. Chart.js calls them with the scale as `this`.
 */
export function useAxisTicks(Chart) {
  const scales = Chart.defaults.scales || {};
  if (scales.linear) scales.linear.ticks.callback = (value, index, ticks) => numericTick(value, ticks);
  if (scales.logarithmic) scales.logarithmic.ticks.callback = logTick;
}
