// Chart markers, a small Chart.js plugin of our own (no dependency): a dashed vertical line
// with a label at the step of each alert (NaN, divergence, stall), and a red band over every
// stretch of non-finite points. NaN and Inf arrive as null and would otherwise be only a gap
// in the line, easy to miss.
//
// The host sets `chart.$tsMarkers = [{step, severity, label, x?}]` (x: where on the x axis,
// when it is not the step: a time axis); what was drawn last (only what falls inside the
// visible range) is kept in `chart.$tsMarkersDrawn` for tests:
// {alerts: [{step, x, severity, label, px}], nanSpans: [{from, to, px, metric}]} (from/to in
// axis units).

const COLORS = {
  critical: { line: '#ff6b6b', fill: 'rgba(255, 107, 107, 0.16)', text: '#ffc9c9' },
  warning: { line: '#f5b94d', fill: 'rgba(245, 185, 77, 0.16)', text: '#ffe2a8' },
  info: { line: '#5b9cff', fill: 'rgba(91, 156, 255, 0.16)', text: '#c9dcff' },
};
const NAN_BAND = 'rgba(255, 107, 107, 0.10)';
const NAN_EDGE = 'rgba(255, 107, 107, 0.75)';
const LABEL_HEIGHT = 17;
const LABEL_ROWS = 3;

/** Stretches of null (non-finite) points in an x-sorted data array: [{from, to}] (x units). */
export function nanSpans(data) {
  const spans = [];
  let open = null;
  for (const p of data) {
    if (p.y === null || p.y === undefined || (typeof p.y === 'number' && !Number.isFinite(p.y))) {
      if (!open) open = { from: p.x, to: p.x };
      else open.to = p.x;
    } else if (open) {
      spans.push(open);
      open = null;
    }
  }
  if (open) spans.push(open);
  return spans;
}

function pill(ctx, x, y, w, h, r) {
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(x, y, w, h, r);
  else ctx.rect(x, y, w, h);
}

function fontOf(chart) {
  const f = chart.options.font || {};
  const family = (window.Chart && window.Chart.defaults.font.family) || f.family || 'system-ui, sans-serif';
  return `600 11px ${family}`;
}

export const chartMarkersPlugin = {
  id: 'tsMarkers',

  /** NaN bands go under the lines. */
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea: area, scales } = chart;
    const x = scales.x;
    const drawn = { alerts: [], nanSpans: [] };
    chart.$tsMarkersDrawn = drawn;
    if (!x || !area) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    const seen = new Set();
    chart.data.datasets.forEach((d, i) => {
      if (!chart.isDatasetVisible(i) || d.smoothed) return;  // a smoothed line has its series' NaNs
      for (const span of nanSpans(d.data)) {
        if (span.to < x.min || span.from > x.max) continue;
        const key = `${span.from}:${span.to}`;
        const left = x.getPixelForValue(span.from);
        const right = x.getPixelForValue(span.to);
        drawn.nanSpans.push({ from: span.from, to: span.to, px: left, metric: d.label });
        if (seen.has(key)) continue;
        seen.add(key);
        ctx.fillStyle = NAN_BAND;
        ctx.fillRect(left, area.top, Math.max(2, right - left), area.bottom - area.top);
        ctx.fillStyle = NAN_EDGE;
        ctx.fillRect(Math.round(left) - 1, area.top, 2, area.bottom - area.top);
        // A small "NaN" tab at the foot of the band (naming the run, for an overlaid one).
        ctx.font = fontOf(chart);
        const text = d.overlay && d.label ? `NaN · ${d.label.split(' · ').slice(1).join(' · ')}` : 'NaN';
        const w = ctx.measureText(text).width + 10;
        pill(ctx, left + 3, area.bottom - LABEL_HEIGHT - 4, w, LABEL_HEIGHT, 4);
        ctx.fillStyle = 'rgba(255, 107, 107, 0.9)';
        ctx.fill();
        ctx.fillStyle = '#1a0d0d';
        ctx.textBaseline = 'middle';
        ctx.fillText(text, left + 8, area.bottom - LABEL_HEIGHT / 2 - 4);
      }
    });
    ctx.restore();
  },

  /** Alert lines and their labels go over the lines. */
  afterDatasetsDraw(chart) {
    const markers = chart.$tsMarkers || [];
    const { ctx, chartArea: area, scales } = chart;
    const x = scales.x;
    if (!x || !area || markers.length === 0) return;
    const drawn = chart.$tsMarkersDrawn || (chart.$tsMarkersDrawn = { alerts: [], nanSpans: [] });
    const rowsEnd = new Array(LABEL_ROWS).fill(-Infinity);
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    ctx.font = fontOf(chart);
    ctx.textBaseline = 'middle';
    const at = (m) => (m.x === undefined ? m.step : m.x);
    const sorted = [...markers].sort((a, b) => at(a) - at(b));
    for (const m of sorted) {
      const mx = at(m);
      if (!Number.isFinite(mx) || mx < x.min || mx > x.max) continue;
      const px = x.getPixelForValue(mx);
      const color = COLORS[m.severity] || COLORS.info;
      ctx.strokeStyle = color.line;
      ctx.lineWidth = 1.25;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(Math.round(px) + 0.5, area.top);
      ctx.lineTo(Math.round(px) + 0.5, area.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      drawn.alerts.push({ step: m.step, x: mx, severity: m.severity, label: m.label, px });

      // The label: right of the line, or left of it near the right edge; stacked in rows
      // when labels would overlap, dropped when there is no room.
      const text = m.label;
      const w = ctx.measureText(text).width + 12;
      let left = px + 4;
      if (left + w > area.right) left = px - 4 - w;
      const row = rowsEnd.findIndex((end) => end + 4 < left);
      if (row < 0) continue;
      rowsEnd[row] = left + w;
      const top = area.top + 4 + row * (LABEL_HEIGHT + 3);
      pill(ctx, left, top, w, LABEL_HEIGHT, 4);
      ctx.fillStyle = 'rgba(13, 18, 25, 0.92)';
      ctx.fill();
      ctx.fillStyle = color.fill;
      ctx.fill();
      ctx.strokeStyle = color.line;
      ctx.lineWidth = 1;
      ctx.stroke();
      ctx.fillStyle = color.text;
      ctx.fillText(text, left + 6, top + LABEL_HEIGHT / 2 + 0.5);
    }
    ctx.restore();
  },
};
