// The model diagram as a standalone SVG or PNG, from two buttons in the model panel's head.
//
// The export draws its own copy of the diagram (model_diagram.js, into a detached element) from
// the panel's model and unfolded ranges: the same picture the panel shows, but with every
// label (the panel hides them when zoomed far out), no selection or focus ring, and whether or
// not the panel is collapsed. A second <style> turns the dark theme into a light one on white,
// and a header names the run; everything the file needs is inside it.
import { exportFileName, downloadBlob, initExportNotice, showExportNotice } from './export_files.js';
import { formatTimestamp } from './format.js';
import { ModelDiagram } from './model_diagram.js';
import { layoutModel } from './model_layout.js';
import { setUnavailable } from './tap_detail.js';

const NS = 'http://www.w3.org/2000/svg';
const HEADER = 52;      // px above the diagram for the run's name and the model summary
const MAX_SIDE = 16384; // canvas limits (Chromium: 32767 per side, ~268 M pixels)
const MAX_PIXELS = 64e6;

// Text colour of a container's name, per layer colour: the palette's hue, dark enough for white.
const DARK = {
  emb: '#be185d', ln: '#92400e', attn: '#c2410c', mlp: '#1d4ed8', act: '#0e7490',
  head: '#6d28d9', block: '#334155', other: '#475569', root: '#334155',
};

// Same selectors as model_diagram.js's sheet, later in the document: these win.
const LIGHT_THEME = `
.ms-svg text { fill: #1f2937; }
.ms-svg .ms-detail { fill: #4b5563; }
.ms-svg .ms-params { fill: #374151; }
.ms-svg .ms-block > .ms-part > .ms-frame { fill: #f8fafc; stroke: #cbd5e1; }
.ms-svg .ms-root > .ms-part > .ms-frame { fill: #ffffff; stroke: #d1d5db; }
.ms-svg .ms-edge { stroke: #64748b; }
.ms-svg .ms-edge-residual { stroke: #475569; }
.ms-svg .ms-arrow-flow { fill: #64748b; }
.ms-svg .ms-arrow-residual { fill: #475569; }
.ms-svg .ms-add circle { fill: #ffffff; stroke: #334155; }
.ms-svg .ms-add path { stroke: #334155; }
.ms-svg .ms-dot { fill: #475569; }
.ms-svg .ms-io rect { fill: #f1f5f9; stroke: #94a3b8; }
.ms-svg .ms-io .ms-io-label { fill: #1f2937; }
.ms-svg .ms-io .ms-io-shape { fill: #475569; }
.ms-svg .ms-range .ms-card { fill: #f1f5f9; stroke: #cbd5e1; }
.ms-svg .ms-range .ms-frame { fill: #f8fafc; stroke: #64748b; }
.ms-svg .ms-pill rect { fill: rgba(37, 99, 235, 0.08); stroke: rgba(37, 99, 235, 0.5); }
.ms-svg .ms-pill text { fill: #1d4ed8; }
.ms-svg .ms-bracket path { stroke: #94a3b8; }
.ms-svg .ms-bracket .ms-bracket-count { fill: #1f2937; }
.ms-svg .ms-export-title { font-size: 16px; font-weight: 650; fill: #111827; }
.ms-svg .ms-export-sub { font-size: 12px; fill: #4b5563; }
${Object.entries(DARK).map(([c, v]) => `.ms-svg .ms-c-${c} > .ms-part text.ms-accent { fill: ${v}; }`).join('\n')}
`;

function svgEl(tag, attrs, parent) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent.append(node);
  return node;
}

/**
 * The panel's diagram as SVG text. `panel`: the ModelPanel (its .info, .expanded,
 * .summary); `run`: the run shown ({name, session_id}).
 * @returns {text, width, height, title}
 */
export function modelSvg(panel, run, { exportedAt = new Date() } = {}) {
  const layout = layoutModel(panel.info, { expanded: panel.expanded });
  const diagram = new ModelDiagram(document.createElement('div'));
  diagram.render(layout);
  diagram.setLowDetail(false);  // every label, whatever the panel's zoom
  const svg = diagram.svg;
  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height) + HEADER;
  for (const a of ['role', 'tabindex', 'data-testid', 'data-content-width', 'data-content-height', 'data-blocks']) svg.removeAttribute(a);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const name = (run && run.name) || 'model';
  const title = `${name} — model`;
  svg.setAttribute('aria-label', title);

  svgEl('style', {}, svg).textContent = LIGHT_THEME;
  const first = svg.querySelector('style');
  const titleEl = document.createElementNS(NS, 'title');
  titleEl.textContent = title;
  first.before(titleEl);
  // White underneath everything, then the header, then the diagram moved below it.
  const background = document.createElementNS(NS, 'rect');
  for (const [k, v] of Object.entries({ width: '100%', height: '100%', fill: '#ffffff' })) background.setAttribute(k, v);
  diagram.content.before(background);
  const head = document.createElementNS(NS, 'g');
  head.setAttribute('class', 'ms-export-head');
  diagram.content.before(head);
  const line = (y, cls, text) => {
    svgEl('text', { x: 16, y, class: cls }, head).textContent = text;
  };
  line(24, 'ms-export-title', name);
  const summary = panel.summary ? panel.summary.textContent : '';
  line(42, 'ms-export-sub', [summary, `exported ${formatTimestamp(exportedAt.getTime())}`].filter(Boolean).join(' · '));
  diagram.content.setAttribute('transform', `translate(0 ${HEADER})`);

  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}\n`;
  return { text, width, height, title };
}

/** Draws SVG text onto a white canvas (2× while that stays within the canvas limits). */
export async function svgToPng(svgText, width, height) {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const scale = Math.min(2, MAX_SIDE / width, MAX_SIDE / height, Math.sqrt(MAX_PIXELS / (width * height)));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.floor(width * scale));
    canvas.height = Math.max(1, Math.floor(height * scale));
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png');
    });
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Adds "Export SVG" and "Export PNG" to the panel's head; they are available while the panel
 * shows a model (otherwise a tap says why not). `getRun()` is the run shown. Returns {svgButton, pngButton, last} (last:
 * what the latest export wrote, for tests).
 */
export function attachModelExport(panel, getRun) {
  initExportNotice();
  const head = panel.root.querySelector('.mp-head');
  const make = (label, testid) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'button';
    b.dataset.testid = testid;
    b.textContent = label;
    return b;
  };
  const svgButton = make('Export SVG', 'model-export-svg');
  const pngButton = make('Export PNG', 'model-export-png');
  const group = document.createElement('div');
  group.className = 'mp-export';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', 'Export the model diagram');
  group.append(svgButton, pngButton);
  head.append(group);
  const api = { svgButton, pngButton, last: null };

  const sync = () => {
    const ready = panel.state === 'ready' && Boolean(panel.info);
    const why = panel.state === 'loading' ? 'The model is loading'
      : panel.state === 'none' ? 'This run did not report its model'
        : panel.state === 'error' ? 'The model info could not be loaded' : 'No run shown';
    const reason = ready ? '' : `${why}: nothing to export`;
    setUnavailable(svgButton, reason, 'Download the model diagram as SVG');
    setUnavailable(pngButton, reason, 'Download the model diagram as PNG');
  };
  new MutationObserver(sync).observe(panel.root, { attributes: true, attributeFilter: ['data-state'] });
  sync();

  const run = async (kind) => {
    if (panel.state !== 'ready' || !panel.info) return;
    const shown = getRun();
    const date = new Date();
    try {
      const svg = modelSvg(panel, shown, { exportedAt: date });
      const fileName = exportFileName(shown && shown.name, kind, { suffix: 'model', date });
      const blob = kind === 'svg' ? new Blob([svg.text], { type: 'image/svg+xml' }) : await svgToPng(svg.text, svg.width, svg.height);
      downloadBlob(blob, fileName);
      api.last = { kind, fileName, width: svg.width, height: svg.height };
    } catch (e) {
      showExportNotice(`Model ${kind.toUpperCase()} export failed: ${e.message}`, 'error');
    }
  };
  svgButton.addEventListener('click', () => run('svg'));
  pngButton.addEventListener('click', () => run('png'));
  return api;
}
