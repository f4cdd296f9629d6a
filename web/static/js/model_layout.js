// The model diagram's layout: GET /api/model-info's layer tree -> positioned boxes, edges and
// residual adds, as a tree of plain items that mirrors the layer tree. Pure (no DOM), so it
// runs in node for unit tests; model_diagram.js turns the items into SVG.
//
// Drawn top to bottom, as the nanoGPT figures draw a transformer: token and position
// embeddings summed at a ⊕, the stack of blocks, the final LayerNorm, the head, the logits.
// A block whose children alternate LayerNorm and a sub-layer ([ln_1, attn, ln_2, mlp]) is a
// pre-LN residual block: the residual stream runs down a lane at its left and re-joins at a ⊕
// after each sub-layer. Containers whose children are all leaves (attn: c_attn, heads,
// c_proj; mlp: c_fc, gelu, c_proj) draw them as a row; any other container stacks them.
// Runs of identical siblings (the blocks of a deep model) longer than `collapseAt` show their
// first two and last two; the middle folds into one expandable "range" item.
//
// Items (all coordinates absolute, in diagram units = CSS px at zoom 1):
//   {kind: 'node', path, name, type, params, variant: root|block|container|leaf, color,
//    x, y, w, h, label: {...}, children: [items]}   one per layer-tree node shown
//   {kind: 'edge', d, variant: flow|residual, arrow}          SVG path data
//   {kind: 'add', cx, cy, r, title}                           a ⊕ residual (or embedding) sum
//   {kind: 'dot', cx, cy}                                     where the residual branches off
//   {kind: 'io', x, y, w, h, label, detail}                   model input / output
//   {kind: 'range', id, x, y, w, h, first, last, count, ...}  folded identical siblings
//   {kind: 'collapse', id, x, y, w, h, label}                 folds an expanded range again
//   {kind: 'bracket', x, y1, y2, label, detail}               "6 ×" beside the block stack

/** Layout constants (diagram units). */
export const GEOMETRY = Object.freeze({
  margin: 16,
  rootPadX: 22,
  rootHead: 46,
  rootPadBottom: 20,
  gutter: 92,        // right of the column: the "N ×" bracket
  colW: 480,         // a block's width
  lane: 42,          // a block's residual lane, left of its main column
  mainRight: 14,     // right padding of the main column
  gap: 16,           // vertical space (an arrow) between stacked items
  blockGap: 20,
  blockHead: 32,
  blockPadBottom: 12,
  lnH: 26,
  leafH: 28,
  leaf2H: 40,        // a two-line leaf (narrow boxes)
  contHead: 28,
  contPad: 10,
  rowGap: 20,        // horizontal arrow between the children of a row container
  addR: 10,
  dotR: 3,
  ioH: 26,
  rangeH: 76,
  collapseH: 30,
  singleLineMinW: 240,
});

/** Runs of identical siblings longer than this fold into a range (first 2 and last 2 stay). */
export const COLLAPSE_AT = 8;
const KEEP_EACH_SIDE = 2;

const RESERVED = new Set(['name', 'type', 'input_shape', 'output_shape', 'params', 'children']);

// ---- formatting (shared with the panel) ----

/** 10745088 -> "10.75 M", 442368 -> "442.37 K", 384 -> "384". */
export function formatParams(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a < 1e3) return String(Math.round(v));
  if (a < 1e6) return `${(v / 1e3).toFixed(2)} K`;
  if (a < 1e9) return `${(v / 1e6).toFixed(2)} M`;
  if (a < 1e12) return `${(v / 1e9).toFixed(2)} B`;
  return `${(v / 1e12).toFixed(2)} T`;
}

/** Three significant digits, no space, for labels inside boxes: "442K", "1.77M", "384". */
export function formatParamsShort(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  const three = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  if (a < 1e3) return String(Math.round(v));
  if (a < 1e6) return `${three(v / 1e3)}K`;
  if (a < 1e9) return `${three(v / 1e6)}M`;
  return `${three(v / 1e9)}B`;
}

/** A node's share of the total: "16.6 %", "< 0.1 %", "0 %". */
export function formatShare(params, total) {
  const p = Number(params);
  const t = Number(total);
  if (!Number.isFinite(p) || !Number.isFinite(t) || t <= 0) return '—';
  const share = (p / t) * 100;
  if (share === 0) return '0 %';
  if (share < 0.1) return '< 0.1 %';
  return `${share.toFixed(1)} %`;
}

/** ["B", "T", 384] -> "(B, T, 384)"; missing -> "—". */
export function formatShape(shape) {
  if (!Array.isArray(shape)) return '—';
  return `(${shape.map((d) => String(d)).join(', ')})`;
}

/** Full dotted path of a node: the root is its own name; below it, names joined by ".". */
export function childPath(parentPath, name, parentIsRoot) {
  return parentIsRoot ? String(name) : `${parentPath}.${name}`;
}

/** Truncates `text` to about `maxWidth` units at `charW` units per character. */
export function fitText(text, maxWidth, charW) {
  const s = String(text);
  const max = Math.floor(maxWidth / charW);
  if (s.length <= max) return s;
  if (max <= 1) return '';
  return `${s.slice(0, max - 1)}…`;
}

// Average glyph advance per font (diagram units), generous so labels never overflow.
const CHAR = { title: 7.3, name: 7.0, detail: 6.0, params: 6.7, small: 5.8 };

// ---- tree helpers ----

const kids = (node) => (node && Array.isArray(node.children) ? node.children : []);
const isLeaf = (node) => kids(node).length === 0;
const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);

/** Attributes beyond the standard fields (n_head, in_features, ...). */
export function nodeAttributes(node) {
  const out = {};
  for (const [k, v] of Object.entries(node || {})) {
    if (!RESERVED.has(k) && (typeof v !== 'object' || v === null)) out[k] = v;
  }
  return out;
}

const signatures = new WeakMap();

/** What makes two siblings "identical": everything but the node's own name. */
export function signature(node) {
  if (!node || typeof node !== 'object') return String(node);
  let s = signatures.get(node);
  if (s === undefined) {
    s = JSON.stringify([node.type, num(node.params), node.input_shape || null, node.output_shape || null,
      nodeAttributes(node), kids(node).map((c) => [c && c.name, signature(c)])]);
    signatures.set(node, s);
  }
  return s;
}

/**
 * Splits siblings into runs of identical non-leaf nodes: [{start, end}] (end exclusive), each
 * at least 2 long. Leaves never fold (a LayerNorm next to another is not a "stack").
 */
export function identicalRuns(children) {
  const runs = [];
  let i = 0;
  while (i < children.length) {
    let j = i + 1;
    if (!isLeaf(children[i])) {
      const sig = signature(children[i]);
      while (j < children.length && !isLeaf(children[j]) && signature(children[j]) === sig) j += 1;
    }
    if (j - i >= 2) runs.push({ start: i, end: j });
    i = j;
  }
  return runs;
}

/** The id of the range that folds children[start..end) (inclusive names). */
export function rangeId(parentPath, first, last) {
  return `${parentPath}:${first}..${last}`;
}

/** [ln, X, ln, Y, ...]: a pre-LN residual block (nanoGPT's Block). */
function isResidualBlock(node) {
  const c = kids(node);
  if (c.length < 2 || c.length % 2 !== 0) return false;
  return c.every((child, i) => (i % 2 === 0 ? child.type === 'LayerNorm' && isLeaf(child) : child.type !== 'LayerNorm'));
}

function colorOf(node, inherited) {
  const type = String(node.type || '');
  const name = String(node.name || '');
  if (type === 'Embedding') return 'emb';
  if (type === 'LayerNorm' || /^ln/.test(name)) return 'ln';
  if (/GELU|ReLU|SiLU|Tanh|Softmax|Activation/i.test(type)) return 'act';
  if (/Attention/i.test(type) || name === 'attn') return 'attn';
  if (/MLP|FeedForward/i.test(type) || name === 'mlp') return 'mlp';
  if (type === 'Block') return 'block';
  if (name === 'lm_head' || /head$/i.test(name)) return 'head';
  return inherited || 'other';
}

/** The second line of a box: what the layer does, in the layer's own terms. */
export function detailOf(node) {
  const a = nodeAttributes(node);
  const type = String(node.type || '');
  switch (type) {
    case 'Linear':
      if (a.in_features !== undefined && a.out_features !== undefined) return `Linear ${a.in_features} → ${a.out_features}`;
      break;
    case 'Embedding':
      if (a.num_embeddings !== undefined && a.embedding_dim !== undefined) return `Embedding ${a.num_embeddings} × ${a.embedding_dim}`;
      break;
    case 'LayerNorm':
      if (a.normalized_shape !== undefined) return `LayerNorm ${a.normalized_shape}`;
      break;
    case 'MultiHeadAttention':
      if (a.n_head !== undefined) return a.head_size !== undefined ? `${a.n_head} heads × ${a.head_size}` : `${a.n_head} heads`;
      break;
    default:
      break;
  }
  return type;
}

// ---- layout ----

class Builder {
  constructor(info, expanded) {
    this.info = info;
    this.expanded = expanded;
    this.config = (info && info.config) || {};
    this.blocks = 0;          // block-like nodes drawn
    this.ranges = [];         // folded ranges drawn
    this.expandedRanges = []; // ranges drawn unfolded (with a collapse control)
  }

  leafHeight(w) {
    return w >= GEOMETRY.singleLineMinW ? GEOMETRY.leafH : GEOMETRY.leaf2H;
  }

  /** Box labels, fitted to the box width. */
  labels(node, w, { twoLine, head = false }) {
    const pad = 10;
    const inner = w - 2 * pad;
    const params = num(node.params);
    let paramsText = params > 0 ? formatParamsShort(params) : '';
    if (!paramsText && node.name === 'lm_head' && this.config.tied_lm_head) paramsText = 'tied to wte';
    let detail = detailOf(node);
    if (twoLine && detail.length * CHAR.small > inner) detail = detail.replace(/ ([→×]) /g, '$1');
    const name = String(node.name);
    const nameW = name.length * CHAR.name;
    const paramsW = paramsText.length * CHAR.params;
    if (twoLine) {
      const showParams = paramsText && nameW + 8 + paramsW <= inner;
      return {
        name: fitText(name, showParams ? inner - paramsW - 8 : inner, CHAR.name),
        detail: fitText(detail === name ? '' : detail, inner, CHAR.small),
        params: showParams ? paramsText : '',
        lines: 2,
      };
    }
    const nameFit = fitText(name, Math.max(40, inner * (head ? 0.5 : 0.4)), CHAR.name);
    const rest = inner - nameFit.length * CHAR.name - 12 - (paramsText ? paramsW + 12 : 0);
    return {
      name: nameFit,
      detail: detail === name ? '' : fitText(detail, rest, CHAR.detail),
      params: paramsText,
      lines: 1,
    };
  }

  nodeItem(node, path, variant, color, x, y, w, h, extra = {}) {
    return {
      kind: 'node',
      path,
      name: String(node.name),
      type: String(node.type || ''),
      params: num(node.params),
      variant,
      color,
      x, y, w, h,
      children: [],
      ...extra,
    };
  }

  /** A leaf box. `narrow`: a centred box at 62 % of the width (LayerNorms in the stream). */
  leaf(node, path, x, y, w, inherited, { narrow = false } = {}) {
    const color = colorOf(node, inherited);
    let bx = x;
    let bw = w;
    if (narrow) {
      bw = Math.round(w * 0.62);
      bx = x + Math.round((w - bw) / 2);
    }
    const twoLine = bw < GEOMETRY.singleLineMinW;
    const h = node.type === 'LayerNorm' && !twoLine ? GEOMETRY.lnH : this.leafHeight(bw);
    return this.nodeItem(node, path, 'leaf', color, bx, y, bw, h,
      { label: this.labels(node, bw, { twoLine, head: color === 'head' }) });
  }

  /** Any node at (x, y) with width w: leaf, residual block, row container or stacked container. */
  node(node, path, x, y, w, inherited) {
    if (isLeaf(node)) return this.leaf(node, path, x, y, w, inherited);
    if (isResidualBlock(node)) return this.residualBlock(node, path, x, y, w, inherited);
    return this.container(node, path, x, y, w, inherited);
  }

  containerLabel(node, w) {
    const params = num(node.params);
    const paramsText = params > 0 ? formatParamsShort(params) : '';
    const inner = w - 24 - (paramsText ? paramsText.length * CHAR.params + 12 : 0);
    const name = fitText(String(node.name), inner * 0.5, CHAR.name);
    const type = String(node.type || '');
    return {
      name,
      detail: type && type !== node.name ? fitText(type, inner - name.length * CHAR.name - 10, CHAR.detail) : '',
      params: paramsText,
    };
  }

  container(node, path, x, y, w, inherited) {
    const G = GEOMETRY;
    const color = colorOf(node, inherited);
    const item = this.nodeItem(node, path, 'container', color, x, y, w, 0, { label: this.containerLabel(node, w) });
    const children = kids(node);
    const innerX = x + G.contPad;
    const innerW = w - 2 * G.contPad;
    const n = children.length;
    const rowW = (innerW - G.rowGap * (n - 1)) / n;
    const asRow = children.every(isLeaf) && n >= 2 && n <= 4 && rowW >= 90;
    let cy = y + G.contHead;
    if (asRow) {
      const h = Math.max(...children.map((c) => (rowW < G.singleLineMinW ? G.leaf2H : G.leafH)));
      children.forEach((c, i) => {
        const cx = innerX + i * (rowW + G.rowGap);
        const child = this.leaf(c, childPath(path, c.name, false), cx, cy, rowW, color);
        child.h = h;
        item.children.push(child);
        if (i > 0) {
          const ay = cy + h / 2;
          item.children.push({ kind: 'edge', variant: 'flow', arrow: true, d: `M${cx - G.rowGap + 2} ${ay}H${cx - 1}` });
        }
      });
      cy += h;
    } else {
      let prev = null;
      const spineX = innerX + innerW / 2;
      this.stack(children, path, false, cy, (c, p, yy) => this.node(c, p, innerX, yy, innerW, color), (child) => {
        if (child.kind === 'collapse') {
          item.children.push(child);
          return;
        }
        if (prev) item.children.push(edgeV(spineX, prev.y + prev.h, child.y));
        item.children.push(child);
        prev = child;
      }, { wide: { x: innerX, w: innerW } });
      cy = prev ? prev.y + prev.h : cy;
    }
    item.h = cy + G.contPad - y;
    return item;
  }

  /** A pre-LN residual block: for each (LayerNorm, sub-layer) pair, x + f(ln(x)) with a ⊕. */
  residualBlock(node, path, x, y, w, inherited) {
    const G = GEOMETRY;
    const color = colorOf(node, inherited);
    this.blocks += 1;
    const item = this.nodeItem(node, path, 'block', color, x, y, w, 0, { label: this.containerLabel(node, w) });
    const mainX = x + G.lane;
    const mainW = w - G.lane - G.mainRight;
    const spineX = mainX + mainW / 2;
    const laneX = x + G.lane / 2;
    const children = kids(node);
    const decor = [];
    const parts = [];
    let top = y + G.blockHead - 8;  // the stream enters at the block's top edge
    decor.push({ kind: 'edge', variant: 'flow', arrow: false, d: `M${spineX} ${y}V${top}` });
    for (let i = 0; i < children.length; i += 2) {
      const ln = children[i];
      const sub = children[i + 1];
      const dotY = top + 8;
      decor.push({ kind: 'edge', variant: 'flow', arrow: false, d: `M${spineX} ${top}V${dotY}` });
      const lnItem = this.leaf(ln, childPath(path, ln.name, false), mainX, dotY + 18, mainW, color, { narrow: true });
      decor.push(edgeV(spineX, dotY + G.dotR, lnItem.y));
      const subItem = this.node(sub, childPath(path, sub.name, false), mainX, lnItem.y + lnItem.h + G.gap, mainW, color);
      decor.push(edgeV(spineX, lnItem.y + lnItem.h, subItem.y));
      const addCy = subItem.y + subItem.h + G.gap + G.addR;
      decor.push(edgeV(spineX, subItem.y + subItem.h, addCy - G.addR));
      decor.push({ kind: 'edge', variant: 'residual', arrow: true,
        d: `M${spineX - G.dotR} ${dotY}H${laneX + 6}Q${laneX} ${dotY} ${laneX} ${dotY + 6}` +
          `V${addCy - 6}Q${laneX} ${addCy} ${laneX + 6} ${addCy}H${spineX - G.addR - 1}` });
      decor.push({ kind: 'dot', cx: spineX, cy: dotY });
      decor.push({ kind: 'add', cx: spineX, cy: addCy, r: G.addR,
        title: `${path}: residual add, x + ${sub.name}(${ln.name}(x))` });
      parts.push(lnItem, subItem);
      top = addCy + G.addR;
    }
    const bottom = top + G.blockPadBottom;
    decor.push({ kind: 'edge', variant: 'flow', arrow: false, d: `M${spineX} ${top}V${bottom}` });
    item.h = bottom - y;
    item.children.push(...decor, ...parts);
    return item;
  }

  /**
   * Lays out siblings top to bottom from y, calling `emit(item)` for each item in order.
   * `make(node, path, y)` lays out one sibling. Runs of identical non-leaf siblings longer
   * than COLLAPSE_AT fold into a range item (x, w: `wide`) unless expanded, when a collapse
   * control comes before the unfolded part. Returns {bottom, spans: [{startItem, endItem,
   * count, type}]}, one per run of identical siblings, for the "N ×" bracket.
   */
  stack(children, parentPath, parentIsRoot, y, make, emit, { wide, gapFor = () => GEOMETRY.gap }) {
    const G = GEOMETRY;
    const runs = identicalRuns(children);
    const runAt = new Map(runs.map((r) => [r.start, r]));
    const spans = [];
    let cy = y;
    let prev = null;       // the previous sibling (node), for gapFor
    let gapOverride = null;
    const place = (item) => {
      emit(item);
      cy = item.y + item.h;
      return item;
    };
    const nextY = (node) => {
      if (prev === null && gapOverride === null) return cy;
      const gap = gapOverride !== null ? gapOverride : gapFor(prev, node);
      gapOverride = null;
      return cy + gap;
    };
    const pathOf = (n) => childPath(parentPath, n.name, parentIsRoot);
    for (let i = 0; i < children.length;) {
      const run = runAt.get(i);
      const end = run ? run.end : i + 1;
      const span = run ? { startItem: null, endItem: null, count: end - i, type: String(children[i].type || '') } : null;
      const folds = run && run.end - run.start > COLLAPSE_AT;
      const foldFrom = folds ? run.start + KEEP_EACH_SIDE : -1;
      const foldTo = folds ? run.end - KEEP_EACH_SIDE : -1;  // exclusive
      for (let j = i; j < end; ++j) {
        const c = children[j];
        let item;
        if (j === foldFrom) {
          const first = String(children[foldFrom].name);
          const last = String(children[foldTo - 1].name);
          const id = rangeId(parentPath, first, last);
          const count = foldTo - foldFrom;
          if (!this.expanded.has(id)) {
            const each = num(c.params);
            item = place({
              kind: 'range', id, x: wide.x, y: nextY(c), w: wide.w, h: G.rangeH, parentPath,
              first, last, count, type: span.type, paramsEach: each, paramsTotal: each * count,
              paths: children.slice(foldFrom, foldTo).map(pathOf),
            });
            this.ranges.push(item);
            prev = c;
            j = foldTo - 1;
            span.endItem = item;
            continue;
          }
          gapOverride = 8;
          const control = place({ kind: 'collapse', id, x: wide.x, y: nextY(c), w: wide.w, h: G.collapseH,
            label: `collapse ${first} … ${last}`, first, last, count });
          this.expandedRanges.push(control);
          gapOverride = 8;
        }
        item = place(make(c, pathOf(c), nextY(c)));
        if (span && !span.startItem) span.startItem = item;
        if (span) span.endItem = item;
        prev = c;
      }
      if (span) spans.push(span);
      i = end;
    }
    return { bottom: cy, spans };
  }

  root(tree) {
    const G = GEOMETRY;
    const rootX = G.margin;
    const rootY = G.margin;
    const colX = rootX + G.rootPadX;
    const colW = G.colW;
    const mainX = colX + G.lane;
    const mainW = colW - G.lane - G.mainRight;
    const spineX = mainX + mainW / 2;
    const rootW = G.rootPadX + colW + G.gutter;
    const rootPath = String(tree.name);
    const rootLabel = this.containerLabel(tree, rootW);
    rootLabel.params = num(tree.params) > 0 ? `${formatParams(tree.params)} parameters` : '';
    const root = this.nodeItem(tree, rootPath, 'root', 'root', rootX, rootY, rootW, 0, { label: rootLabel });
    if (isLeaf(tree)) {
      const only = this.leaf(tree, rootPath, mainX, rootY + G.rootHead, mainW, 'other');
      only.path = `${rootPath}`;
      root.children.push(only);
      root.h = only.y + only.h + G.rootPadBottom - rootY;
      return root;
    }
    const children = kids(tree);
    const decor = [];
    const items = [];
    let y = rootY + G.rootHead;
    let i = 0;
    let prevBottom = null;  // where the stream leaves the previous item, on the spine

    // Token and position embeddings side by side, summed at a ⊕.
    const embeddings = [];
    while (i < children.length && embeddings.length < 2 && children[i].type === 'Embedding' && isLeaf(children[i])) {
      embeddings.push(children[i]);
      i += 1;
    }
    if (embeddings.length === 2) {
      const ew = (mainW - 24) / 2;
      embeddings.forEach((e, k) => {
        const ex = mainX + k * (ew + 24);
        const io = {
          kind: 'io', x: ex + ew / 2 - 70, y, w: 140, h: G.ioH,
          label: k === 0 ? 'token ids' : 'positions',
          detail: formatShape(e.input_shape),
        };
        const item = this.leaf(e, childPath(rootPath, e.name, true), ex, y + G.ioH + G.gap, ew, 'emb');
        item.h = G.leaf2H;
        decor.push(io, edgeV(ex + ew / 2, y + G.ioH, item.y));
        items.push(item);
      });
      const bottom = items[0].y + items[0].h;
      const addCy = bottom + 24;
      const [a, b] = items;
      decor.push({ kind: 'edge', variant: 'flow', arrow: true, d: `M${a.x + a.w / 2} ${bottom}V${addCy - 6}Q${a.x + a.w / 2} ${addCy} ${a.x + a.w / 2 + 6} ${addCy}H${spineX - G.addR - 1}` });
      decor.push({ kind: 'edge', variant: 'flow', arrow: true, d: `M${b.x + b.w / 2} ${bottom}V${addCy - 6}Q${b.x + b.w / 2} ${addCy} ${b.x + b.w / 2 - 6} ${addCy}H${spineX + G.addR + 1}` });
      decor.push({ kind: 'add', cx: spineX, cy: addCy, r: G.addR, title: `${a.name} + ${b.name}: token plus position embedding` });
      prevBottom = addCy + G.addR;
      y = prevBottom + G.blockGap;
    } else {
      i = 0;
      const io = { kind: 'io', x: spineX - 80, y, w: 160, h: G.ioH, label: 'input', detail: formatShape(tree.input_shape) };
      decor.push(io);
      prevBottom = y + G.ioH;
      y = prevBottom + G.gap;
    }

    // The rest: blocks (span the whole column, lane included) and everything else in the main column.
    const rest = children.slice(i);
    const isWide = (n) => !isLeaf(n);
    const gapFor = (a, b) => ((a && isWide(a)) || (b && isWide(b)) ? G.blockGap : G.gap);
    const { spans } = this.stack(rest, rootPath, true, y, (node, path, yy) => (isWide(node)
      ? this.node(node, path, colX, yy, colW, 'other')
      // Leaves sit in the main column; LayerNorms narrow, like those inside the blocks.
      : this.leaf(node, path, mainX, yy, mainW, 'other', { narrow: node.type === 'LayerNorm' })), (item) => {
      if (item.kind === 'collapse') {
        items.push(item);
        return;
      }
      decor.push(edgeV(spineX, prevBottom, item.y));
      prevBottom = item.y + item.h;
      items.push(item);
    }, { wide: { x: colX, w: colW }, gapFor });
    y = prevBottom;

    for (const span of spans) {
      if (span.count < 2 || !span.startItem) continue;
      decor.push({ kind: 'bracket', x: colX + colW + 14, y1: span.startItem.y, y2: span.endItem.y + span.endItem.h,
        label: `${span.count} ×`, detail: span.type || 'layer' });
    }

    const out = { kind: 'io', x: spineX - 80, y: y + G.gap, w: 160, h: G.ioH,
      label: tree.type === 'GPT' || children.some((c) => c.name === 'lm_head') ? 'logits' : 'output',
      detail: formatShape(tree.output_shape) };
    decor.push(edgeV(spineX, y, out.y), out);
    root.h = out.y + out.h + G.rootPadBottom - rootY;
    root.children.push(...decor, ...items);
    return root;
  }
}

function edgeV(x, y1, y2) {
  return { kind: 'edge', variant: 'flow', arrow: true, d: `M${x} ${y1}V${y2 - 1}` };
}

/**
 * Lays out a GET /api/model-info reply. `expanded`: ids of ranges the user unfolded.
 * Returns {width, height, root, blocks, ranges, expandedRanges, total}.
 */
export function layoutModel(info, { expanded = new Set() } = {}) {
  if (!info || typeof info !== 'object' || !info.tree || typeof info.tree !== 'object') {
    throw new Error('model info has no layer tree');
  }
  const b = new Builder(info, expanded);
  const root = b.root(info.tree);
  const G = GEOMETRY;
  return {
    width: root.x + root.w + G.margin,
    height: root.y + root.h + G.margin,
    root,
    blocks: b.blocks,
    ranges: b.ranges,
    expandedRanges: b.expandedRanges,
    total: num(info.total_params) || num(info.tree.params),
  };
}

/**
 * Every node of the tree by full path: {path, name, type, params, input_shape, output_shape,
 * attributes, children: [{name, path, params}], parent}. Paths below the root omit the root's
 * name ("h.3.attn.c_attn"); the root is its own name.
 */
export function indexTree(tree) {
  const index = new Map();
  const walk = (node, path, parent, isRoot) => {
    if (!node || typeof node !== 'object') return;
    const children = kids(node);
    const entry = {
      path,
      name: String(node.name),
      type: String(node.type || ''),
      params: num(node.params),
      input_shape: node.input_shape,
      output_shape: node.output_shape,
      attributes: nodeAttributes(node),
      children: children.map((c) => ({ name: String(c.name), path: childPath(path, c.name, isRoot), params: num(c.params), type: String(c.type || '') })),
      parent,
    };
    index.set(path, entry);
    for (const c of children) walk(c, childPath(path, c.name, isRoot), path, false);
  };
  if (tree) walk(tree, String(tree.name), null, true);
  return index;
}

/**
 * The initial view: the whole diagram if it is legible that way (scale at least 3/4 of the
 * width-fitting one), else fitted to the width (never above 1) and aligned to the top.
 * Returns {k, x, y}: screen = diagram * k + (x, y).
 */
export function fitTransform(viewW, viewH, contentW, contentH, { pad = 12, maxScale = 1 } = {}) {
  if (!(viewW > 0 && viewH > 0 && contentW > 0 && contentH > 0)) return { k: 1, x: 0, y: 0 };
  const widthFit = Math.min(maxScale, (viewW - 2 * pad) / contentW);
  const allFit = Math.min(maxScale, (viewW - 2 * pad) / contentW, (viewH - 2 * pad) / contentH);
  if (allFit >= 0.75 * widthFit) {
    return { k: allFit, x: (viewW - contentW * allFit) / 2, y: (viewH - contentH * allFit) / 2 };
  }
  return { k: widthFit, x: (viewW - contentW * widthFit) / 2, y: pad };
}
