// The model diagram as SVG: model_layout.js's items -> nested <g> groups that mirror the
// layer tree (<g class="ms-node" data-path="h.3"> holds h.3's frame, its edges and its
// children's groups). Every layer is a focusable part (role="button", aria-label, <title>);
// Enter or Space selects it like a click. Folded ranges expand the same way.
//
// The SVG is self-contained — its styles live in a <style> inside it and use literal colours,
// and it is exactly the diagram's size (width/height = the layout's) — so it can be exported
// as is. Pan and zoom move the HTML layer that holds it (a CSS transform: far cheaper for the
// browser than re-laying out a transformed SVG group of thousands of elements).
import { formatParams } from './model_layout.js';

const NS = 'http://www.w3.org/2000/svg';
/** The smallest target a finger gets (px on screen, both ways). */
const TOUCH_TARGET = 44;
const frameBox = (part) => (part.querySelector('.ms-frame') || part).getBoundingClientRect();
const isLarge = (b) => b.width >= TOUCH_TARGET && b.height >= TOUCH_TARGET;

// The palette follows "Attention is all you need": pink embeddings, yellow norms, orange
// attention, blue feed-forward, violet output — toned for the dashboard's dark background.
const COLORS = {
  emb: '#f472b6',
  ln: '#e8c15a',
  attn: '#fb923c',
  mlp: '#60a5fa',
  act: '#22d3ee',
  head: '#a78bfa',
  block: '#8b9bb0',
  other: '#94a3b8',
  root: '#64748b',
};

const rgba = (hex, a) => {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
};

/** The <style> inside the SVG. Scoped to .ms-svg so it cannot leak into the page. */
function styleSheet() {
  const perColor = Object.entries(COLORS).map(([name, c]) => `
.ms-svg .ms-c-${name} > .ms-part > .ms-frame { fill: ${rgba(c, 0.12)}; stroke: ${rgba(c, 0.55)}; }
.ms-svg .ms-c-${name} > .ms-part:hover > .ms-frame { stroke: ${rgba(c, 0.95)}; fill: ${rgba(c, 0.18)}; }
.ms-svg .ms-c-${name} > .ms-part .ms-accent { fill: ${c}; }
.ms-svg .ms-c-${name}.ms-container > .ms-part > .ms-frame { fill: ${rgba(c, 0.045)}; stroke: ${rgba(c, 0.4)}; }
.ms-svg .ms-c-${name}.ms-container > .ms-part:hover > .ms-frame { fill: ${rgba(c, 0.08)}; stroke: ${rgba(c, 0.8)}; }
.ms-svg .ms-c-${name} > .ms-part[data-selected] > .ms-frame { fill: ${rgba(c, 0.26)}; stroke: ${c}; }`).join('');
  return `
.ms-svg { font-family: Inter, "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif; }
.ms-svg text { fill: #e6ebf2; font-size: 12px; }
.ms-svg .ms-part { cursor: pointer; outline: none; }
.ms-svg .ms-frame { stroke-width: 1; }
.ms-svg .ms-name { font-weight: 600; font-size: 12px; }
.ms-svg .ms-detail { fill: #9aa6b6; font-size: 10.5px; }
.ms-svg .ms-params { fill: #aab4c3; font-family: "JetBrains Mono", "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 10.5px; text-anchor: end; }
.ms-svg .ms-container > .ms-part .ms-name, .ms-svg .ms-block > .ms-part .ms-name { font-size: 12.5px; }
.ms-svg .ms-block > .ms-part > .ms-frame { fill: #111821; stroke: #2b3644; }
.ms-svg .ms-block > .ms-part:hover > .ms-frame { fill: #141c27; stroke: #435266; }
.ms-svg .ms-block > .ms-part .ms-name { font-size: 13px; }
.ms-svg .ms-root > .ms-part > .ms-frame { fill: #0d1319; stroke: #1e2731; }
.ms-svg .ms-root > .ms-part:hover > .ms-frame { fill: #0d1319; stroke: #2b3644; }
.ms-svg .ms-root > .ms-part .ms-name { font-size: 15px; font-weight: 650; }
.ms-svg .ms-root > .ms-part .ms-params { font-size: 11.5px; }
${perColor}
.ms-svg .ms-block > .ms-part[data-selected] > .ms-frame, .ms-svg .ms-root > .ms-part[data-selected] > .ms-frame { stroke: #5b9cff; fill: #131d2a; }
.ms-svg .ms-part[data-selected] > .ms-frame { stroke-width: 2; }
.ms-svg .ms-part:focus-visible > .ms-frame { stroke: #5b9cff; stroke-width: 2; }
.ms-svg .ms-part:focus-visible > .ms-focus { stroke: rgba(91, 156, 255, 0.45); }
.ms-svg .ms-focus { fill: none; stroke: transparent; stroke-width: 3; }
.ms-svg .ms-edge { fill: none; stroke: #627184; stroke-width: 1.5; }
.ms-svg .ms-edge-residual { stroke: #8ea2bd; stroke-width: 1.6; }
.ms-svg .ms-arrow-flow { fill: #627184; }
.ms-svg .ms-arrow-residual { fill: #8ea2bd; }
.ms-svg .ms-add circle { fill: #0b0f14; stroke: #c6d2e1; stroke-width: 1.5; }
.ms-svg .ms-add path { stroke: #c6d2e1; stroke-width: 1.6; stroke-linecap: round; }
.ms-svg .ms-dot { fill: #8ea2bd; }
.ms-svg .ms-io rect { fill: #0f151d; stroke: #334052; }
.ms-svg .ms-io .ms-io-label { font-weight: 600; font-size: 11px; fill: #c9d3df; }
.ms-svg .ms-io .ms-io-shape { font-family: "JetBrains Mono", "SFMono-Regular", Menlo, Consolas, monospace; font-size: 10.5px; fill: #8b97a8; }
.ms-svg .ms-range { cursor: pointer; outline: none; }
.ms-svg .ms-range .ms-card { fill: #101720; stroke: #263140; }
.ms-svg .ms-range .ms-frame { fill: #121a24; stroke: #4a5a6e; stroke-dasharray: 5 4; stroke-width: 1.2; }
.ms-svg .ms-range:hover .ms-frame, .ms-svg .ms-range:focus-visible .ms-frame { stroke: #5b9cff; }
.ms-svg .ms-range .ms-range-title { font-weight: 650; font-size: 14px; }
.ms-svg .ms-range .ms-detail { font-size: 11px; }
.ms-svg .ms-pill rect { fill: rgba(91, 156, 255, 0.12); stroke: rgba(91, 156, 255, 0.5); }
.ms-svg .ms-pill text { fill: #8fbaff; font-size: 11.5px; font-weight: 600; }
.ms-svg .ms-range:hover .ms-pill rect, .ms-svg .ms-collapse:hover rect, .ms-svg .ms-collapse:focus-visible rect { fill: rgba(91, 156, 255, 0.22); stroke: #5b9cff; }
.ms-svg .ms-collapse { cursor: pointer; outline: none; }
.ms-svg .ms-bracket path { fill: none; stroke: #3a4757; stroke-width: 1.5; }
.ms-svg .ms-bracket .ms-bracket-count { font-size: 17px; font-weight: 650; fill: #c9d3df; }
.ms-svg .ms-bracket .ms-detail { font-size: 11px; }
.ms-svg.ms-far text { visibility: hidden; }
`;
}

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  }
  if (parent) parent.append(node);
  return node;
}

function text(parent, x, y, value, cls, attrs = {}) {
  const t = el('text', { x: r(x), y: r(y), class: cls, ...attrs }, parent);
  t.textContent = value;
  return t;
}

const r = (v) => Math.round(v * 10) / 10;

let instances = 0;

/** Accessible name of a layer: "h.3.attn.c_attn, Linear, 442.37 K parameters". */
export function partLabel(path, type, params) {
  const p = Number(params) > 0 ? `, ${formatParams(params)} parameters` : '';
  return `${path}${type && type !== path ? `, ${type}` : ''}${p}`;
}

export class ModelDiagram {
  /**
   * @param host      element the diagram's layer (this.layer, holding the <svg>) goes in
   * @param handlers  {onSelect(path), onExpand(rangeId), onCollapse(rangeId)}
   */
  constructor(host, handlers = {}) {
    this.host = host;
    this.handlers = handlers;
    this.uid = `ms${++instances}`;
    this.svg = el('svg', {
      class: 'ms-svg',
      xmlns: NS,
      width: 0,
      height: 0,
      role: 'group',
      'aria-label': 'Model architecture diagram',
      'data-testid': 'model-svg',
      tabindex: -1,  // Chromium makes the clipping <svg> a tab stop of its own; its parts are the stops
    });
    el('style', {}, this.svg).textContent = styleSheet();
    const defs = el('defs', {}, this.svg);
    for (const kind of ['flow', 'residual']) {
      const m = el('marker', {
        id: `${this.uid}-arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5,
        markerWidth: 7, markerHeight: 7, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse',
      }, defs);
      el('path', { d: 'M0 1L10 5L0 9z', class: `ms-arrow-${kind}` }, m);
    }
    this.content = el('g', { class: 'ms-content' }, this.svg);
    this.selected = null;
    this.layout = null;
    this.layer = document.createElement('div');
    this.layer.className = 'mp-layer';
    this.layer.append(this.svg);
    host.append(this.layer);

    // A finger is no mouse: a tap on the background, or on a large part's free space (the
    // model's or a block's frame), goes to a small part if it lands in that part's box grown
    // to TOUCH_TARGET px, so a part drawn small (a phone, zoomed out) still takes a 44 px tap.
    this.lastPointerType = '';
    this.svg.addEventListener('pointerdown', (e) => {
      this.lastPointerType = e.pointerType;
    });
    this.svg.addEventListener('click', (e) => {
      let target = e.target;
      if (this.lastPointerType === 'touch') {
        const hit = target.closest ? target.closest('[data-action]') : null;
        if (!hit || (hit.classList.contains('ms-part') && isLarge(frameBox(hit)))) {
          target = this.smallPartNear(e.clientX, e.clientY) || target;
        }
      }
      this.activate(target, e);
    });
    this.svg.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ' && e.key !== 'Spacebar') return;
      if (this.activate(e.target, e)) e.preventDefault();
    });
  }

  /** Handles a click or Enter/Space on `target`; true if it hit something. */
  activate(target, event) {
    const hit = target && target.closest ? target.closest('[data-action]') : null;
    if (!hit || !this.svg.contains(hit)) return false;
    const { action } = hit.dataset;
    if (event) event.stopPropagation();
    if (action === 'select') this.handlers.onSelect?.(hit.dataset.path);
    else if (action === 'expand') this.handlers.onExpand?.(hit.dataset.range);
    else if (action === 'collapse') this.handlers.onCollapse?.(hit.dataset.range);
    return true;
  }

  /** Draws a layout (replacing the previous drawing); keeps the selection if still shown. */
  render(layout) {
    this.layout = layout;
    const g = document.createDocumentFragment();
    this.draw(layout.root, g);
    this.content.replaceChildren(g);
    this.svg.setAttribute('width', String(Math.ceil(layout.width)));
    this.svg.setAttribute('height', String(Math.ceil(layout.height)));
    this.svg.setAttribute('viewBox', `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`);
    this.svg.dataset.contentWidth = String(layout.width);
    this.svg.dataset.contentHeight = String(layout.height);
    this.svg.dataset.blocks = String(layout.blocks);
    if (this.selected) this.markSelected(this.selected);
  }

  /**
   * The small part (under TOUCH_TARGET px on screen either way) whose frame, grown to
   * TOUCH_TARGET px, holds client point (x, y); the nearest if several. Null if none.
   */
  smallPartNear(x, y) {
    let best = null;
    let bestDistance = Infinity;
    for (const p of this.content.querySelectorAll('.ms-part')) {
      const b = frameBox(p);
      if (isLarge(b)) continue;
      const growX = Math.max(0, (TOUCH_TARGET - b.width) / 2);
      const growY = Math.max(0, (TOUCH_TARGET - b.height) / 2);
      const dx = Math.max(b.left - x, 0, x - b.right);
      const dy = Math.max(b.top - y, 0, y - b.bottom);
      if (dx > growX || dy > growY) continue;
      const d = Math.hypot(dx, dy);
      if (d < bestDistance) {
        best = p;
        bestDistance = d;
      }
    }
    return best;
  }

  /** The interactive element of a layer (its frame), or null if it is not drawn. */
  partFor(path) {
    for (const p of this.content.querySelectorAll('.ms-part')) if (p.dataset.path === path) return p;
    return null;
  }

  markSelected(path) {
    for (const p of this.content.querySelectorAll('.ms-part[data-selected]')) p.removeAttribute('data-selected');
    this.selected = path;
    const part = path ? this.partFor(path) : null;
    if (part) part.setAttribute('data-selected', 'true');
    return part;
  }

  draw(item, parent) {
    switch (item.kind) {
      case 'node': return this.drawNode(item, parent);
      case 'edge': return el('path', {
        d: item.d,
        class: `ms-edge${item.variant === 'residual' ? ' ms-edge-residual' : ''}`,
        'marker-end': item.arrow ? `url(#${this.uid}-arrow-${item.variant === 'residual' ? 'residual' : 'flow'})` : null,
      }, parent);
      case 'add': return this.drawAdd(item, parent);
      case 'dot': return el('circle', { class: 'ms-dot', cx: r(item.cx), cy: r(item.cy), r: 3 }, parent);
      case 'io': return this.drawIo(item, parent);
      case 'range': return this.drawRange(item, parent);
      case 'collapse': return this.drawCollapse(item, parent);
      case 'bracket': return this.drawBracket(item, parent);
      default: return null;
    }
  }

  drawNode(item, parent) {
    const g = el('g', {
      class: `ms-node ms-${item.variant} ms-c-${item.color}`,
      'data-path': item.path,
      'data-type': item.type,
      'data-params': item.params,
    }, parent);
    const label = partLabel(item.path, item.type, item.params);
    const part = el('g', {
      class: 'ms-part',
      role: 'button',
      tabindex: 0,
      'aria-label': label,
      'data-action': 'select',
      'data-path': item.path,
    }, g);
    el('title', {}, part).textContent = label;
    const { x, y, w, h } = item;
    const radius = item.variant === 'root' ? 16 : item.variant === 'block' ? 12 : item.variant === 'container' ? 9 : 6;
    el('rect', { class: 'ms-focus', x: r(x - 3), y: r(y - 3), width: r(w + 6), height: r(h + 6), rx: radius + 3 }, part);
    el('rect', { class: 'ms-frame', x: r(x), y: r(y), width: r(w), height: r(h), rx: radius }, part);
    const l = item.label || {};
    if (item.variant === 'leaf') {
      el('rect', { class: 'ms-accent', x: r(x), y: r(y + 5), width: 3, height: r(h - 10), rx: 1.5 }, part);
      if (l.lines === 2) {
        text(part, x + 10, y + 16, l.name, 'ms-name');
        if (l.params) text(part, x + w - 9, y + 16, l.params, 'ms-params');
        if (l.detail) text(part, x + 10, y + 31, l.detail, 'ms-detail');
      } else {
        const ty = y + h / 2 + 4;
        text(part, x + 12, ty, l.name, 'ms-name');
        if (l.detail) text(part, x + 12 + Math.max(48, l.name.length * 7.4 + 10), ty, l.detail, 'ms-detail');
        if (l.params) text(part, x + w - 10, ty, l.params, 'ms-params');
      }
    } else {
      const head = item.variant === 'root' ? 30 : item.variant === 'block' ? 21 : 18;
      const left = item.variant === 'root' ? x + 18 : x + 12;
      const nameWidth = l.name.length * (item.variant === 'root' ? 9.4 : 8) + 10;
      text(part, left, y + head, l.name, `ms-name${item.variant === 'container' ? ' ms-accent' : ''}`);
      if (l.detail) text(part, left + nameWidth, y + head, l.detail, 'ms-detail');
      if (l.params) text(part, x + w - (item.variant === 'root' ? 18 : 12), y + head, l.params, 'ms-params');
    }
    for (const child of item.children) this.draw(child, g);
    return g;
  }

  /** Hides the labels (unreadable below some zoom, and what costs most to paint). */
  setLowDetail(low) {
    this.svg.classList.toggle('ms-far', Boolean(low));
  }

  drawAdd(item, parent) {
    const g = el('g', { class: 'ms-add', role: 'img', 'aria-label': item.title }, parent);
    el('title', {}, g).textContent = item.title;
    el('circle', { cx: r(item.cx), cy: r(item.cy), r: item.r }, g);
    const a = item.r * 0.55;
    el('path', { d: `M${r(item.cx - a)} ${r(item.cy)}H${r(item.cx + a)}M${r(item.cx)} ${r(item.cy - a)}V${r(item.cy + a)}` }, g);
    return g;
  }

  drawIo(item, parent) {
    const g = el('g', { class: 'ms-io' }, parent);
    el('rect', { x: r(item.x), y: r(item.y), width: r(item.w), height: r(item.h), rx: item.h / 2 }, g);
    const cx = item.x + item.w / 2;
    const ty = item.y + item.h / 2 + 4;
    const labelW = item.label.length * 6.4;
    const shapeW = item.detail.length * 6.3;
    const start = cx - (labelW + 8 + shapeW) / 2;
    text(g, start, ty, item.label, 'ms-io-label');
    text(g, start + labelW + 8, ty, item.detail, 'ms-io-shape');
    return g;
  }

  drawRange(item, parent) {
    const label = `${item.first} … ${item.last}: ${item.count} identical ${item.type || 'layer'}s, ` +
      `${formatParams(item.paramsTotal)} parameters. Expand`;
    const g = el('g', {
      class: 'ms-range',
      role: 'button',
      tabindex: 0,
      'aria-label': label,
      'aria-expanded': 'false',
      'data-action': 'expand',
      'data-range': item.id,
      'data-count': item.count,
      'data-testid': 'model-range',
    }, parent);
    el('title', {}, g).textContent = label;
    const { x, y, w, h } = item;
    // A stack of cards: two peek out below the front one, all within the item's box.
    const fh = h - 10;
    el('rect', { class: 'ms-card', x: x + 12, y: y + 10, width: w - 24, height: fh, rx: 12 }, g);
    el('rect', { class: 'ms-card', x: x + 6, y: y + 5, width: w - 12, height: fh, rx: 12 }, g);
    el('rect', { class: 'ms-frame', x, y, width: w, height: fh, rx: 12 }, g);
    text(g, x + 20, y + 27, `${item.first} … ${item.last}`, 'ms-range-title');
    const each = item.paramsEach > 0 ? ` · ${formatParams(item.paramsEach)} each · ${formatParams(item.paramsTotal)} in all` : '';
    text(g, x + 20, y + 48, `${item.count} identical ${item.type || 'layer'}s${each}`, 'ms-detail');
    const pill = el('g', { class: 'ms-pill' }, g);
    el('rect', { x: x + w - 102, y: y + fh / 2 - 14, width: 86, height: 28, rx: 14 }, pill);
    text(pill, x + w - 59, y + fh / 2 + 4.5, '▸ expand', '', { 'text-anchor': 'middle' });
    return g;
  }

  drawCollapse(item, parent) {
    const label = `${item.label} (${item.count} identical layers)`;
    const g = el('g', {
      class: 'ms-collapse ms-pill',
      role: 'button',
      tabindex: 0,
      'aria-label': label,
      'aria-expanded': 'true',
      'data-action': 'collapse',
      'data-range': item.id,
      'data-testid': 'model-collapse',
    }, parent);
    el('title', {}, g).textContent = label;
    const w = Math.min(item.w - 40, item.label.length * 6.6 + 34);
    const x = item.x + item.w - w - 6;
    el('rect', { x: r(x), y: r(item.y + 2), width: r(w), height: item.h - 4, rx: (item.h - 4) / 2 }, g);
    text(g, x + w / 2, item.y + item.h / 2 + 4.5, `▾ ${item.label}`, '', { 'text-anchor': 'middle' });
    return g;
  }

  drawBracket(item, parent) {
    const g = el('g', { class: 'ms-bracket', 'aria-hidden': 'true' }, parent);
    const { x, y1, y2 } = item;
    el('path', { d: `M${x} ${y1 + 6}h8V${y2 - 6}h-8` }, g);
    const mid = (y1 + y2) / 2;
    text(g, x + 16, mid - 2, item.label, 'ms-bracket-count');
    text(g, x + 16, mid + 15, item.detail, 'ms-detail');
    return g;
  }
}
