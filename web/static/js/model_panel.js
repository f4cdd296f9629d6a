// The "Model" panel: the run's architecture as an interactive diagram (model_diagram.js,
// laid out by model_layout.js, panned and zoomed by model_zoom.js), its configuration, and
// the details of the layer the user selects. Follows the run shown by the page (the app's
// data-run-id), reloading on every change. States (data-state on the panel): idle (no run
// yet), loading, ready, none (the run reported no model: 404), error (malformed: 422, or the
// agent unreachable). Collapsed or not is remembered in localStorage.
import { getModelInfo } from './model_api.js';
import { ModelDiagram } from './model_diagram.js';
import { fitTransform, formatParams, formatShape, formatShare, indexTree, layoutModel } from './model_layout.js';
import { PanZoom } from './model_zoom.js';

const STORAGE_KEY = 'trainscope.modelPanel.collapsed';
const RETRY_NO_MODEL_MS = [2000, 5000, 10000];  // a starting trainer may report its model late

// Colours of the type swatch in the info box (same as the diagram's).
const SWATCH = {
  emb: '#f472b6', ln: '#e8c15a', attn: '#fb923c', mlp: '#60a5fa', act: '#22d3ee',
  head: '#a78bfa', block: '#8b9bb0', other: '#94a3b8', root: '#64748b',
};

const CONFIG_ROWS = [
  ['vocab_size', 'Vocabulary'],
  ['n_layer', 'Layers'],
  ['n_head', 'Heads'],
  ['n_embd', 'Embedding size'],
  ['block_size', 'Context (block size)'],
  ['dropout', 'Dropout'],
  ['bias', 'Bias'],
  ['tied_lm_head', 'Head tied to wte'],
];

const formatCount = (n) => (Number.isFinite(n) ? Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : '—');

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** The stored choice; `fallback` while the user never chose (a phone starts collapsed). */
function readCollapsed(fallback = false) {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return v === null ? fallback : v === '1';
  } catch {
    return fallback;
  }
}

function writeCollapsed(collapsed) {
  try {
    window.localStorage.setItem(STORAGE_KEY, collapsed ? '1' : '0');
  } catch {
    // storage unavailable (private mode): the state just is not remembered
  }
}

export class ModelPanel {
  /** @param options {collapsedByDefault}: the state while the user never chose one */
  constructor(root, { collapsedByDefault = false } = {}) {
    this.root = root;
    this.sessionId = undefined;
    this.info = null;
    this.index = new Map();
    this.items = new Map();     // path -> layout item drawn
    this.layout = null;
    this.expanded = new Set();
    this.selectedPath = null;
    this.generation = 0;
    this.abort = null;
    this.retryTimer = null;
    this.retries = 0;
    this.fitted = false;        // the initial view has been set for this model
    this.userMoved = false;     // the user zoomed or panned since
    this.collapsed = readCollapsed(collapsedByDefault);
    this.build();
    this.setCollapsed(this.collapsed, { remember: false });
    this.setState('idle');
  }

  // ---- DOM ----

  build() {
    const root = this.root;
    root.classList.add('model-panel');
    root.setAttribute('aria-labelledby', 'model-title');
    this.toggle = h('button', {
      type: 'button', class: 'mp-toggle', 'aria-expanded': 'true', 'aria-controls': 'model-body',
      'data-testid': 'model-toggle',
    });
    this.toggle.innerHTML = '<svg class="mp-chevron" viewBox="0 0 12 12" aria-hidden="true"><path d="M3 4.5l3 3 3-3"/></svg>';
    this.toggle.append(h('span', { class: 'mp-title', id: 'model-title', text: 'Model' }));
    this.summary = h('span', { class: 'mp-summary', 'data-testid': 'model-summary' });
    const head = h('header', { class: 'mp-head' }, this.toggle, this.summary);

    this.message = h('div', { class: 'mp-message', 'data-testid': 'model-message', role: 'status' });

    this.viewportEl = h('div', { class: 'mp-viewport', 'data-testid': 'model-viewport' });
    const button = (testid, label, title, html) => {
      const b = h('button', { type: 'button', class: 'mp-tool', 'data-testid': testid, 'aria-label': label, title });
      b.innerHTML = html;
      return b;
    };
    this.zoomInButton = button('model-zoom-in', 'Zoom in', 'Zoom in (+)',
      '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 3v10M3 8h10"/></svg>');
    this.zoomOutButton = button('model-zoom-out', 'Zoom out', 'Zoom out (−)',
      '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3 8h10"/></svg>');
    this.resetButton = button('model-reset', 'Reset view', 'Reset view (0)',
      '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3.2 6.2A5 5 0 1 1 3 9.5"/><path d="M2.6 2.8v3.6h3.6"/></svg>');
    this.scaleEl = h('span', { class: 'mp-scale', 'data-testid': 'model-scale', 'aria-live': 'off' });
    const controls = h('div', { class: 'mp-controls', role: 'toolbar', 'aria-label': 'Diagram view' },
      this.zoomInButton, this.zoomOutButton, this.resetButton);
    const hint = h('div', { class: 'mp-hint', 'aria-hidden': 'true' },
      h('span', { text: 'Scroll or pinch to zoom · drag to pan · click a layer for details' }), this.scaleEl);
    this.stage = h('div', { class: 'mp-stage' }, this.viewportEl, controls, hint);

    this.configEl = h('dl', { class: 'mp-config', 'data-testid': 'model-params' });
    this.totalEl = h('div', { class: 'mp-total', 'data-testid': 'model-total' });
    this.infoBody = h('div', { class: 'mp-info-body' });
    const side = h('aside', { class: 'mp-side' },
      h('section', { class: 'mp-card', 'aria-labelledby': 'model-config-title' },
        h('h3', { id: 'model-config-title', text: 'Parameters' }), this.totalEl, this.configEl),
      h('section', { class: 'mp-card mp-info', 'data-testid': 'model-info', 'aria-live': 'polite',
        'aria-labelledby': 'model-info-title' },
      h('h3', { id: 'model-info-title', text: 'Selected layer' }), this.infoBody));

    this.main = h('div', { class: 'mp-main' }, this.stage, side);
    this.body = h('div', { class: 'mp-body', id: 'model-body', 'data-testid': 'model-body' }, this.message, this.main);
    root.replaceChildren(head, this.body);

    this.diagram = new ModelDiagram(this.viewportEl, {
      onSelect: (path) => this.select(path),
      onExpand: (id) => this.expand(id),
      onCollapse: (id) => this.collapse(id),
    });
    this.zoom = new PanZoom(this.viewportEl, this.diagram.layer, {
      onChange: (t, reason) => {
        if (reason !== 'reset' && reason !== 'set') this.userMoved = true;
        this.scaleEl.textContent = `${Math.round(t.k * 100)} %`;
        this.diagram.setLowDetail(t.k < 0.35);
      },
    });

    this.toggle.addEventListener('click', () => this.setCollapsed(!this.collapsed));
    this.zoomInButton.addEventListener('click', () => this.zoom.zoomBy(1.25));
    this.zoomOutButton.addEventListener('click', () => this.zoom.zoomBy(0.8));
    this.resetButton.addEventListener('click', () => this.resetView());
    // Focus moved into the diagram by keyboard: bring the part into view. The viewport is
    // `overflow: clip`, so the browser cannot scroll it; where clip is unsupported it may
    // scroll it to reveal the focused element: undo that, the transform does the moving.
    this.viewportEl.addEventListener('scroll', () => {
      this.viewportEl.scrollTop = 0;
      this.viewportEl.scrollLeft = 0;
    });
    this.diagram.svg.addEventListener('focusin', (e) => {
      const part = e.target.closest && e.target.closest('.ms-part, .ms-range, .ms-collapse');
      if (part && !this.zoom.pointers.size) this.revealElement(part);
    });
    new ResizeObserver(() => this.onResize()).observe(this.viewportEl);
    this.renderInfo(null);
  }

  setCollapsed(collapsed, { remember = true } = {}) {
    this.collapsed = collapsed;
    this.root.dataset.collapsed = String(collapsed);
    this.toggle.setAttribute('aria-expanded', String(!collapsed));
    this.body.hidden = collapsed;
    if (remember) writeCollapsed(collapsed);
    if (!collapsed && this.state === 'ready') {
      if (!this.layout) this.draw();
      this.ensureFitted();
    }
  }

  setState(state, text = '', detail = null) {
    this.state = state;
    this.root.dataset.state = state;
    this.main.hidden = state !== 'ready';
    this.message.hidden = state === 'ready';
    this.message.dataset.kind = state;
    if (state === 'ready') return;
    this.summary.textContent = state === 'loading' ? 'loading…' : state === 'none' ? 'not reported' : state === 'error' ? 'unavailable' : '';
    const parts = [];
    if (state === 'loading') parts.push(h('span', { class: 'mp-spinner', 'aria-hidden': 'true' }));
    parts.push(h('span', { class: 'mp-message-text', 'data-testid': 'model-message-text', text }));
    if (detail) parts.push(detail);
    this.message.replaceChildren(...parts);
  }

  // ---- data ----

  /** Shows the model of `sessionId` (null: no run yet). Reloads if it changed. */
  showRun(sessionId, { force = false } = {}) {
    if (!force && sessionId === this.sessionId) return;
    this.sessionId = sessionId;
    this.retries = 0;
    this.load();
  }

  async load() {
    const generation = ++this.generation;
    clearTimeout(this.retryTimer);
    if (this.abort) this.abort.abort();
    this.abort = null;
    this.info = null;
    this.layout = null;
    this.expanded = new Set();
    this.selectedPath = null;
    this.fitted = false;
    this.userMoved = false;
    this.diagram.content.replaceChildren();
    this.renderInfo(null);
    this.root.dataset.sessionId = this.sessionId || '';
    this.root.dataset.selected = '';
    if (!this.sessionId) {
      this.setState('idle', 'Waiting for a run to report its model…');
      return;
    }
    this.setState('loading', 'Loading the model…');
    const abort = new AbortController();
    this.abort = abort;
    let info;
    try {
      info = await getModelInfo(this.sessionId, { signal: abort.signal });
    } catch (e) {
      if (generation !== this.generation || e.name === 'AbortError') return;
      this.showError(e);
      return;
    }
    if (generation !== this.generation) return;
    this.abort = null;
    this.show(info);
  }

  showError(e) {
    if (e.noModel) {
      const detail = h('span', { class: 'mp-message-detail' },
        'A trainer reports it once, e.g. ',
        h('code', { text: 'run.set_model_info(trainscope::gpt_model_info_json(config))' }), '. ',
        this.retryButton('Check again'));
      this.setState('none', 'This run did not report its model — call run.set_model_info(...)', detail);
      // A trainer that just started may not have reported it yet: look again a few times.
      if (this.retries < RETRY_NO_MODEL_MS.length) {
        const generation = this.generation;
        this.retryTimer = setTimeout(() => {
          if (generation === this.generation && this.state === 'none') {
            this.retries += 1;
            this.reloadQuietly();
          }
        }, RETRY_NO_MODEL_MS[this.retries]);
      }
      return;
    }
    const what = e.status === 422 ? 'The run reported its model, but the agent cannot read it:'
      : e.status === 0 ? 'Cannot reach the agent for the model info:' : `Cannot load the model info (HTTP ${e.status}):`;
    const detail = h('span', { class: 'mp-message-detail' },
      h('code', { class: 'mp-error-text', 'data-testid': 'model-error', text: e.message }), ' ', this.retryButton('Retry'));
    this.setState('error', what, detail);
  }

  retryButton(label) {
    const b = h('button', { type: 'button', class: 'link-button mp-retry', 'data-testid': 'model-retry', text: label });
    b.addEventListener('click', () => {
      this.retries = RETRY_NO_MODEL_MS.length;  // the user is in charge now
      this.load();
    });
    return b;
  }

  /** Re-fetches without flashing "loading" (background retry of a missing model). */
  async reloadQuietly() {
    const generation = this.generation;
    try {
      const info = await getModelInfo(this.sessionId);
      if (generation === this.generation) this.show(info);
    } catch (e) {
      if (generation === this.generation) this.showError(e);
    }
  }

  show(info) {
    this.info = info;
    this.index = indexTree(info.tree);
    this.renderConfig(info);
    this.setState('ready');
    this.draw();
    this.ensureFitted();
  }

  // ---- drawing ----

  draw() {
    if (!this.info || this.collapsed) return;
    const t0 = performance.now();
    try {
      this.layout = layoutModel(this.info, { expanded: this.expanded });
    } catch (e) {
      this.showError({ status: 422, message: e.message });
      return;
    }
    this.diagram.render(this.layout);
    this.items = new Map();
    const walk = (item) => {
      if (item.kind !== 'node') return;
      this.items.set(item.path, item);
      item.children.forEach(walk);
    };
    walk(this.layout.root);
    this.zoom.content = { width: this.layout.width, height: this.layout.height };
    this.updateMinScale();
    this.root.dataset.blocks = String(this.layout.blocks);
    this.root.dataset.renderMs = (performance.now() - t0).toFixed(1);
    if (this.selectedPath && !this.items.has(this.selectedPath)) this.select(null);
  }

  /** Sets the initial view once the viewport has a size. */
  ensureFitted() {
    if (this.fitted || !this.layout || this.collapsed) return;
    const { width, height } = this.zoom.viewSize();
    if (!(width > 0 && height > 0)) return;
    this.fitted = true;
    this.applyFit();
  }

  applyFit() {
    const { width, height } = this.zoom.viewSize();
    const t = fitTransform(width, height, this.layout.width, this.layout.height);
    this.updateMinScale();
    this.zoom.setInitial(t, { width: this.layout.width, height: this.layout.height });
    this.userMoved = false;
  }

  /** Zooming out stops a little beyond the whole diagram in view. */
  updateMinScale() {
    const { width, height } = this.zoom.viewSize();
    if (!(width > 0 && height > 0) || !this.layout) return;
    const all = Math.min(width / this.layout.width, height / this.layout.height);
    this.zoom.minScale = Math.min(0.2, all * 0.8);
  }

  resetView() {
    if (!this.layout) return;
    this.applyFit();
  }

  onResize() {
    if (!this.layout || this.collapsed) return;
    if (!this.fitted) this.ensureFitted();
    else if (!this.userMoved) this.applyFit();
  }

  revealElement(el) {
    const target = el.querySelector('.ms-frame') || el;
    let box;
    try {
      box = target.getBBox();
    } catch {
      return;
    }
    this.zoom.reveal({ x: box.x, y: box.y, width: box.width, height: Math.min(box.height, 120) });
  }

  expand(id) {
    this.expanded.add(id);
    this.draw();
    const control = [...this.diagram.svg.querySelectorAll('.ms-collapse')].find((c) => c.dataset.range === id);
    if (control) control.focus({ preventScroll: true });
  }

  collapse(id) {
    this.expanded.delete(id);
    this.draw();
    this.zoom.set(this.zoom.transform, 'set');  // the diagram got shorter: keep some of it in view
    const range = [...this.diagram.svg.querySelectorAll('.ms-range')].find((r) => r.dataset.range === id);
    if (range) {
      range.focus({ preventScroll: true });
      this.revealElement(range);
    }
  }

  /** Unfolds every folded range (tests, and "show everything"). */
  expandAll() {
    if (!this.layout) return;
    for (const r of this.layout.ranges) this.expanded.add(r.id);
    this.draw();
  }

  // ---- selection and the side panel ----

  select(path) {
    this.selectedPath = path && this.index.has(path) ? path : null;
    this.diagram.markSelected(this.selectedPath);
    this.root.dataset.selected = this.selectedPath || '';
    this.renderInfo(this.selectedPath ? this.index.get(this.selectedPath) : null);
  }

  renderConfig(info) {
    const config = info.config || {};
    const total = Number(info.total_params) || Number(info.tree && info.tree.params) || 0;
    const rows = [];
    const seen = new Set();
    const value = (v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : typeof v === 'number' ? (Number.isInteger(v) ? formatCount(v) : String(v)) : String(v));
    for (const [key, label] of CONFIG_ROWS) {
      if (!(key in config)) continue;
      seen.add(key);
      rows.push(h('div', { class: 'mp-row', 'data-key': key },
        // The config key on hover, or on a tap (data-detail: tap_detail.js).
        h('dt', { text: label, title: key, 'data-detail': key }), h('dd', { text: value(config[key]), 'data-testid': `model-param-${key}` })));
    }
    for (const [key, v] of Object.entries(config)) {
      if (seen.has(key) || (typeof v === 'object' && v !== null)) continue;
      rows.push(h('div', { class: 'mp-row', 'data-key': key },
        h('dt', { text: key }), h('dd', { text: value(v), 'data-testid': `model-param-${key}` })));
    }
    this.configEl.replaceChildren(...rows);
    this.totalEl.replaceChildren(
      h('span', { class: 'mp-total-value', 'data-testid': 'model-param-total', 'data-params': total,
        title: `${formatCount(total)} parameters`, 'data-detail': `${formatCount(total)} parameters`, text: formatParams(total) }),
      h('span', { class: 'mp-total-label', text: 'total parameters' }));
    const layers = Number(config.n_layer);
    const summary = [String(info.tree.type || info.tree.name || 'model')];
    if (Number.isFinite(layers) && layers > 0) summary.push(`${layers} layer${layers === 1 ? '' : 's'}`);
    summary.push(`${formatParams(total)} parameters`);
    this.summary.textContent = summary.join(' · ');
  }

  renderInfo(entry) {
    if (!entry) {
      this.infoBody.replaceChildren(h('p', { class: 'mp-info-empty', 'data-testid': 'model-info-empty',
        text: 'Click a layer in the diagram — or Tab to it and press Enter — to see its shapes and parameters.' }));
      return;
    }
    const total = this.layout ? this.layout.total : Number(this.info.total_params) || 0;
    const item = this.items.get(entry.path);
    const color = SWATCH[item ? item.color : 'other'] || SWATCH.other;
    const kv = (label, val, testid, attrs = {}) => [h('dt', { text: label }), h('dd', { 'data-testid': testid, ...attrs }, ...[].concat(val))];
    const rows = [
      ...kv('Input', formatShape(entry.input_shape), 'model-info-input'),
      ...kv('Output', formatShape(entry.output_shape), 'model-info-output'),
      ...kv('Parameters', [
        h('span', { class: 'mp-info-params', text: `${formatParams(entry.params)} · ${formatShare(entry.params, total)}` }),
        h('small', { text: `${formatCount(entry.params)} of ${formatCount(total)}` }),
      ], 'model-info-params', { 'data-params': entry.params }),
    ];
    for (const [k, v] of Object.entries(entry.attributes)) rows.push(...kv(k, String(v), `model-info-attr-${k}`));
    const share = total > 0 ? Math.min(100, (entry.params / total) * 100) : 0;
    const bar = h('div', { class: 'mp-bar', role: 'img', 'aria-label': `${formatShare(entry.params, total)} of all parameters` });
    const fill = h('span');
    fill.style.width = `${share}%`;
    fill.style.background = color;
    bar.append(fill);
    const swatch = h('span', { class: 'mp-swatch', 'aria-hidden': 'true' });
    swatch.style.background = color;
    const parts = [
      h('div', { class: 'mp-info-name', 'data-testid': 'model-info-name', text: entry.path, title: entry.path }),
      h('div', { class: 'mp-info-type', 'data-testid': 'model-info-type' }, swatch, entry.type || '—'),
      bar,
      h('dl', { class: 'mp-kv' }, ...rows),
    ];
    if (entry.children.length) {
      const list = h('ul', { class: 'mp-children', 'aria-label': `Parts of ${entry.path}` });
      const max = Math.max(1, ...entry.children.map((c) => c.params));
      for (const c of entry.children.slice(0, 64)) {
        const b = h('button', { type: 'button', class: 'mp-child', 'data-path': c.path, title: c.path });
        const meter = h('span', { class: 'mp-child-meter', 'aria-hidden': 'true' });
        const m = h('span');
        m.style.width = `${(c.params / max) * 100}%`;
        meter.append(m);
        b.append(h('span', { class: 'mp-child-name', text: c.name }), meter,
          h('span', { class: 'mp-child-params', text: c.params > 0 ? formatParams(c.params) : '—' }));
        b.addEventListener('click', () => this.selectAndReveal(c.path));
        list.append(h('li', {}, b));
      }
      if (entry.children.length > 64) list.append(h('li', { class: 'mp-more', text: `… ${entry.children.length - 64} more` }));
      parts.push(h('div', { class: 'mp-children-head', text: 'Parts' }), list);
    }
    if (entry.parent) {
      const up = h('button', { type: 'button', class: 'link-button mp-up', 'data-testid': 'model-info-parent', text: `↑ ${entry.parent}` });
      up.addEventListener('click', () => this.selectAndReveal(entry.parent));
      parts.push(up);
    }
    this.infoBody.replaceChildren(...parts);
  }

  /** Selects a layer, unfolding its range if it is folded, and pans it into view. */
  selectAndReveal(path) {
    if (!this.items.has(path) && this.layout) {
      const range = this.layout.ranges.find((r) => r.paths.some((p) => path === p || path.startsWith(`${p}.`)));
      if (range) {
        this.expanded.add(range.id);
        this.draw();
      }
    }
    this.select(path);
    const part = this.diagram.partFor(path);
    if (part) this.revealElement(part);
  }
}

/**
 * Creates the panel in `root` and keeps it on the run the page shows (`app`'s data-run-id).
 * Returns the panel (tests reach it as window.trainscope.model).
 */
export function initModelPanel(root, app, options = {}) {
  const panel = new ModelPanel(root, options);
  // The run to follow: app's data-run-id, or the attribute named by options.follow (a
  // dataset key: the page sets data-panels-run once the chart of the run is drawn).
  const key = options.follow || 'runId';
  const attribute = `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const follow = () => panel.showRun(app.dataset[key] || null);
  new MutationObserver(follow).observe(app, { attributes: true, attributeFilter: [attribute] });
  follow();
  return panel;
}
