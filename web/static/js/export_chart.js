// The chart as a PNG for reports: what the chart shows now (series, zoom, log axis, markers)
// on white, under a header strip naming the run and the times.
//
// The page is dark: its axis text and grid are light. For the picture the chart is redrawn
// once with dark axis colours, taken with toBase64Image(), and redrawn as it was. Chart.js
// draws synchronously (animation is off), so that happens within one task and never reaches
// the screen.
import { formatTimestamp } from './format.js';

const INK = '#1f2937';              // axis text, titles, header
const INK_DIM = '#4b5563';
const GRID = 'rgba(17, 24, 39, 0.10)';
const BORDER = 'rgba(17, 24, 39, 0.30)';

/**
 * Gives every axis dark text and grid lines (axes drawn in their series' colour keep it);
 * returns a function that puts the previous colours back. Works on the chart's own options
 * (chart.config.options.scales). Chart.js rebuilds those objects from themselves on every
 * update, so the undo looks them up again by axis id rather than keeping references.
 */
function useLightTheme(chart) {
  const scales = () => chart.config.options.scales || {};
  const pageText = window.Chart ? window.Chart.defaults.color : undefined;
  const plain = (color) => !color || color === pageText;  // not a series' own colour
  const saved = [];
  const set = (id, part, key, value) => {
    const scale = scales()[id];
    scale[part] = scale[part] || {};
    saved.push([id, part, key, scale[part][key]]);
    scale[part][key] = value;
  };
  for (const [id, scale] of Object.entries(scales())) {
    if (plain(scale.ticks && scale.ticks.color)) set(id, 'ticks', 'color', INK_DIM);
    if (plain(scale.title && scale.title.color)) set(id, 'title', 'color', INK);
    if (!scale.grid || scale.grid.drawOnChartArea !== false) set(id, 'grid', 'color', GRID);
    set(id, 'border', 'color', BORDER);
  }
  return () => {
    for (const [id, part, key, old] of saved.reverse()) {
      const scale = scales()[id];
      if (!scale || !scale[part]) continue;
      if (old === undefined) delete scale[part][key];
      else scale[part][key] = old;
    }
  };
}

/**
 * The chart drawn in the light theme, as an image of the canvas's size: Chart.js's
 * toBase64Image() (a PNG of the canvas, transparent where nothing is drawn), decoded.
 */
async function lightImage(chart) {
  const restore = useLightTheme(chart);
  let url;
  try {
    chart.update('none');
    url = chart.toBase64Image('image/png', 1);
  } finally {
    restore();
    chart.update('none');
  }
  const image = new Image();
  image.src = url;
  await image.decode();
  return image;
}

/** The header's lines: the run's name, then when it started and when this was exported. */
export function chartHeader(run, exportedAt = new Date()) {
  const name = (run && run.name) || 'Trainscope run';
  const facts = [];
  if (run && Number.isFinite(run.started_ms)) facts.push(`run started ${formatTimestamp(run.started_ms)}`);
  facts.push(`exported ${formatTimestamp(exportedAt.getTime())}`);
  if (run && run.session_id) facts.push(run.session_id);
  return [name, facts.join(' · ')];
}

/** The shown series as legend entries (the page's legend is HTML, outside the canvas). */
function legendOf(chart) {
  // While smoothing, each series once: its smoothed line, in full color.
  return chart.data.datasets.filter((d) => !d.hidden && d.data.length > 0 && !d.smoothedBy)
    .map((d) => ({ label: String(d.label || d.metric || ''), color: d.borderColor }));
}

/** Lays legend entries out in rows no wider than `width`: [[{label, color, x}], ...]. */
function legendRows(ctx, entries, width, swatch, gap) {
  const rows = [[]];
  let x = 0;
  for (const e of entries) {
    const w = swatch + gap / 2 + ctx.measureText(e.label).width;
    if (x > 0 && x + w > width) {
      rows.push([]);
      x = 0;
    }
    rows[rows.length - 1].push({ ...e, x });
    x += w + gap;
  }
  return rows[0].length ? rows : [];
}

/**
 * Renders the chart as a PNG on white: a header strip (run name; start, export time and
 * session; a legend of the shown series) above the plot.
 * @returns Promise of {blob, header: [lines], legend: [labels], xTitle (the x axis title drawn),
 *          headerHeight, width, height} (sizes in pixels)
 */
export async function chartPng(chart, run, { exportedAt = new Date() } = {}) {
  const plot = await lightImage(chart);
  const ratio = chart.currentDevicePixelRatio || 1;
  const px = (v) => Math.round(v * ratio);
  const header = chartHeader(run, exportedAt);
  const family = (window.Chart && window.Chart.defaults.font.family) || 'system-ui, sans-serif';
  const [pad, titleSize, lineSize, gap] = [px(14), px(17), px(12), px(8)];
  const swatch = px(18);

  const out = document.createElement('canvas');
  out.width = plot.naturalWidth;
  const ctx = out.getContext('2d');
  const textWidth = out.width - 2 * pad;
  ctx.font = `${lineSize}px ${family}`;
  const entries = legendOf(chart);
  const rows = legendRows(ctx, entries, textWidth, swatch, px(18));
  const legendTop = pad + titleSize + gap + lineSize + gap;
  const headerHeight = legendTop + rows.length * (lineSize + gap) - gap + pad;
  out.height = headerHeight + plot.naturalHeight;  // resizing clears: draw from here on

  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.textBaseline = 'top';
  ctx.fillStyle = INK;
  ctx.font = `600 ${titleSize}px ${family}`;
  ctx.fillText(header[0], pad, pad, textWidth);
  ctx.fillStyle = INK_DIM;
  ctx.font = `${lineSize}px ${family}`;
  ctx.fillText(header[1], pad, pad + titleSize + gap, textWidth);
  rows.forEach((row, i) => {
    const y = legendTop + i * (lineSize + gap);
    for (const e of row) {
      ctx.fillStyle = e.color;
      ctx.fillRect(pad + e.x, y + lineSize / 2 - px(1.5), swatch, Math.max(2, px(3)));
      ctx.fillStyle = INK;
      ctx.fillText(e.label, pad + e.x + swatch + px(4), y);
    }
  });
  ctx.fillStyle = 'rgba(17, 24, 39, 0.12)';
  ctx.fillRect(0, headerHeight - Math.max(1, px(1)), out.width, Math.max(1, px(1)));
  ctx.drawImage(plot, 0, headerHeight);

  const legend = entries.map((e) => e.label);
  // The x axis title the plot was drawn with (step, wall time, relative time).
  const xTitle = chart.scales.x ? chart.scales.x.options.title.text : '';
  return new Promise((resolve, reject) => {
    out.toBlob((blob) => (blob ? resolve({ blob, header, legend, xTitle, headerHeight, width: out.width, height: out.height })
      : reject(new Error('the browser could not encode the PNG'))), 'image/png');
  });
}
