// Pan and zoom for the model diagram, on Pointer Events (mouse, pen and touch alike):
//   wheel              zoom around the pointer (a trackpad pinch arrives as ctrl+wheel)
//   drag               pan (after 4 px, so a click on a part stays a click)
//   two-finger pinch   zoom around the fingers' midpoint, and pan with it
//   + / - / 0          zoom in, zoom out, reset (while focus is in the diagram)
// One transform, view = diagram * k + (x, y), set as a CSS transform on the layer holding
// the diagram (the browser then re-rasterises what is in view instead of re-laying out the
// SVG). Small and dependency-free on purpose: it is all the diagram needs.

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export class PanZoom {
  /**
   * @param view      the clipping element receiving the events (its box is the view)
   * @param target    the element moved (CSS transform, origin at its top-left)
   * @param options   {minScale, maxScale, onChange(transform, reason)}
   */
  constructor(view, target, { minScale = 0.05, maxScale = 4, onChange } = {}) {
    this.view = view;
    this.target = target;
    this.minScale = minScale;
    this.maxScale = maxScale;
    this.onChange = onChange || null;
    this.transform = { k: 1, x: 0, y: 0 };
    this.initial = { k: 1, x: 0, y: 0 };
    this.content = null;        // {width, height}: keeps some of the diagram in view
    this.pointers = new Map();  // pointerId -> {x, y} (view coordinates)
    this.gesture = null;
    this.suppressClick = false;
    this.listeners = [];

    this.on(view, 'wheel', (e) => this.onWheel(e), { passive: false });
    this.on(view, 'pointerdown', (e) => this.onPointerDown(e));
    this.on(view, 'pointermove', (e) => this.onPointerMove(e));
    this.on(view, 'pointerup', (e) => this.onPointerUp(e));
    this.on(view, 'pointercancel', (e) => this.onPointerUp(e));
    // Only the view's own capture: a touched part's implicit capture also ends (and bubbles)
    // when the view takes the pointer over.
    this.on(view, 'lostpointercapture', (e) => {
      if (e.target === view) this.onPointerUp(e);
    });
    // A drag must not end in a click on whatever part is under the pointer.
    this.on(view, 'click', (e) => {
      if (!this.suppressClick) return;
      this.suppressClick = false;
      e.stopPropagation();
      e.preventDefault();
    }, { capture: true });
    this.on(view, 'keydown', (e) => this.onKey(e));
  }

  on(el, type, fn, opts) {
    el.addEventListener(type, fn, opts);
    this.listeners.push([el, type, fn, opts]);
  }

  destroy() {
    for (const [el, type, fn, opts] of this.listeners) el.removeEventListener(type, fn, opts);
    this.listeners = [];
  }

  /** The view's size in CSS px. */
  viewSize() {
    const box = this.view.getBoundingClientRect();
    return { width: box.width, height: box.height };
  }

  /** Client coordinates -> view coordinates (relative to the view's top-left). */
  toView(clientX, clientY) {
    const box = this.view.getBoundingClientRect();
    return { x: clientX - box.left, y: clientY - box.top };
  }

  /** View coordinates -> diagram coordinates under the current transform. */
  toDiagram(vx, vy) {
    const { k, x, y } = this.transform;
    return { x: (vx - x) / k, y: (vy - y) / k };
  }

  /** Sets the transform (scale clamped; at least 48 px of the diagram stays in view). */
  set(t, reason = 'set') {
    let k = clamp(t.k, this.minScale, this.maxScale);
    let { x, y } = t;
    if (!Number.isFinite(k) || !Number.isFinite(x) || !Number.isFinite(y)) return;
    if (this.content) {
      const view = this.viewSize();
      const keep = 48;
      const w = this.content.width * k;
      const h = this.content.height * k;
      if (view.width > 0) x = clamp(x, keep - w, view.width - keep);
      if (view.height > 0) y = clamp(y, keep - h, view.height - keep);
    }
    k = Math.round(k * 1e6) / 1e6;
    this.transform = { k, x, y };
    this.target.style.transform = `translate(${x.toFixed(2)}px, ${y.toFixed(2)}px) scale(${k})`;
    if (this.onChange) this.onChange(this.transform, reason);
  }

  /** Remembers the initial view (what reset() returns to) and shows it. */
  setInitial(t, content) {
    this.content = content || this.content;
    this.initial = { ...t };
    this.set(t, 'reset');
  }

  reset() {
    this.set(this.initial, 'reset');
  }

  /** Multiplies the scale by `factor`, keeping view point (vx, vy) fixed (default: centre). */
  zoomBy(factor, vx, vy, reason = 'zoom') {
    const view = this.viewSize();
    const px = vx ?? view.width / 2;
    const py = vy ?? view.height / 2;
    const { k, x, y } = this.transform;
    const k2 = clamp(k * factor, this.minScale, this.maxScale);
    const f = k2 / k;
    this.set({ k: k2, x: px - (px - x) * f, y: py - (py - y) * f }, reason);
  }

  panBy(dx, dy, reason = 'pan') {
    const { k, x, y } = this.transform;
    this.set({ k, x: x + dx, y: y + dy }, reason);
  }

  /** Pans (no zoom) so the diagram rectangle {x, y, width, height} is in view, with a margin. */
  reveal(rect, margin = 24) {
    const view = this.viewSize();
    const { k, x, y } = this.transform;
    const left = rect.x * k + x;
    const top = rect.y * k + y;
    const right = left + rect.width * k;
    const bottom = top + rect.height * k;
    let dx = 0;
    let dy = 0;
    if (right - left > view.width - 2 * margin) dx = margin - left;
    else if (left < margin) dx = margin - left;
    else if (right > view.width - margin) dx = view.width - margin - right;
    if (bottom - top > view.height - 2 * margin) dy = margin - top;
    else if (top < margin) dy = margin - top;
    else if (bottom > view.height - margin) dy = view.height - margin - bottom;
    if (dx || dy) this.panBy(dx, dy, 'reveal');
  }

  onWheel(e) {
    e.preventDefault();
    // Pixel deltas: a mouse notch is about 100 (-> x0.87); a trackpad pinch sends small
    // ctrl+wheel deltas, hence its higher gain. Line and page modes are scaled to pixels.
    const unit = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1;
    const gain = e.ctrlKey ? 0.01 : 0.002;
    const delta = clamp(e.deltaY * unit, -300, 300);
    const p = this.toView(e.clientX, e.clientY);
    this.zoomBy(2 ** (-delta * gain), p.x, p.y, 'wheel');
  }

  onPointerDown(e) {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    this.pointers.set(e.pointerId, this.toView(e.clientX, e.clientY));
    this.startGesture();
  }

  /** (Re)starts the gesture from the pointers down now, so adding or lifting a finger never jumps. */
  startGesture() {
    const pts = [...this.pointers.values()];
    const moved = this.gesture ? this.gesture.moved : false;
    if (pts.length === 0) {
      this.gesture = null;
      return;
    }
    if (pts.length === 1) {
      this.gesture = { kind: 'pan', start: pts[0], from: { ...this.transform }, moved };
    } else {
      const [a, b] = pts;
      this.gesture = {
        kind: 'pinch',
        mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
        dist: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)),
        from: { ...this.transform },
        moved: true,
      };
      this.capture();
    }
  }

  capture() {
    for (const id of this.pointers.keys()) {
      try {
        if (!this.view.hasPointerCapture(id)) this.view.setPointerCapture(id);
      } catch {
        // the pointer is already gone
      }
    }
    this.view.classList.add('is-panning');
  }

  onPointerMove(e) {
    if (!this.pointers.has(e.pointerId)) return;
    this.pointers.set(e.pointerId, this.toView(e.clientX, e.clientY));
    const g = this.gesture;
    if (!g) return;
    const pts = [...this.pointers.values()];
    if (g.kind === 'pan') {
      const p = pts[0];
      const dx = p.x - g.start.x;
      const dy = p.y - g.start.y;
      if (!g.moved && Math.hypot(dx, dy) < 4) return;
      if (!g.moved) {
        g.moved = true;
        this.capture();
      }
      this.set({ k: g.from.k, x: g.from.x + dx, y: g.from.y + dy }, 'pan');
    } else if (pts.length >= 2) {
      const [a, b] = pts;
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      const dist = Math.max(1, Math.hypot(a.x - b.x, a.y - b.y));
      const k = clamp(g.from.k * (dist / g.dist), this.minScale, this.maxScale);
      // The diagram point under the starting midpoint follows the current midpoint.
      const cx = (g.mid.x - g.from.x) / g.from.k;
      const cy = (g.mid.y - g.from.y) / g.from.k;
      this.set({ k, x: mid.x - cx * k, y: mid.y - cy * k }, 'pinch');
    }
  }

  onPointerUp(e) {
    if (!this.pointers.has(e.pointerId)) return;
    this.pointers.delete(e.pointerId);
    const moved = this.gesture && this.gesture.moved;
    if (this.pointers.size === 0) {
      this.gesture = null;
      this.view.classList.remove('is-panning');
      if (moved && e.type === 'pointerup') {
        // The click (if any) follows this pointerup in the same task.
        this.suppressClick = true;
        setTimeout(() => {
          this.suppressClick = false;
        }, 0);
      }
    } else {
      this.startGesture();
    }
  }

  onKey(e) {
    if (e.altKey || e.metaKey || e.ctrlKey) return;
    if (e.key === '+' || e.key === '=') this.zoomBy(1.25, undefined, undefined, 'key');
    else if (e.key === '-' || e.key === '_') this.zoomBy(0.8, undefined, undefined, 'key');
    else if (e.key === '0') this.reset();
    else return;
    e.preventDefault();
  }
}
