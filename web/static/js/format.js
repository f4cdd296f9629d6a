// Text formatting shared by the tooltip, the status bar and the text fallback.
// Pure functions: no DOM, no state.

/** A metric value with `digits` significant digits; null (NaN/Inf in the trainer) as "NaN/Inf". */
export function formatValue(value, digits = 4) {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'NaN/Inf';
  // Keeps trailing zeros ("0.3000"): the digits shown are the digits known. toPrecision
  // switches to exponent form by itself for magnitudes it cannot show in `digits` digits.
  return value.toPrecision(digits);
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** Wall-clock time of a Unix-ms timestamp, local time: "2025-01-31 14:03:22.125". */
export function formatTimestamp(ms) {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A duration as h:mm:ss (hours are not wrapped at 24). Negative durations show as 0:00:00. */
export function formatElapsed(ms) {
  if (!Number.isFinite(ms)) return '—';
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${pad(m)}:${pad(s)}`;
}

/** 1234567 -> "1,234,567" (locale-independent so tests can parse it). */
export function formatCount(n) {
  if (!Number.isFinite(n)) return '—';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes as MiB with one decimal: "23.4 MB". */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return 'n/a';
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** "3 s ago" style age of a timestamp, for the status bar. */
export function formatAge(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}
