// The loss chart: a Chart.js line chart over steps, one dataset per series. Losses share
// the left axis; every other metric gets its own right-hand axis, drawn in its color.
// Datasets mirror the series store (or, while zoomed, the full-resolution detail for the
// visible range), and every redraw is chart.update('none'): no animation.
//
// Zoom (chartjs-plugin-zoom, optional): mouse wheel, drag a box, pinch; shift-drag pans.
// The host is told the visible step range and may supply detail data for it.
//
// Touch: a tap shows the tooltip (a tap elsewhere closes it), a sideways drag moves it along
// the line, a pinch zooms, and a sideways drag pans once zoomed. Vertical drags are left to
// the browser (the canvas is touch-action: pan-y in dashboard.css), so the chart never traps
// the page's scrolling.
//
// Series of other runs overlaid to compare carry `overlay: true`, their `sessionId` and a
// `label` naming the run; markers (alerts, NaN stretches) are drawn by chart_markers.js.
//
// Smoothing (setSmoothing, smoothing.js): each series gets a second dataset, `smoothed: true`,
// drawn on top with the debiased EMA of what is drawn; the series' own dataset stays, faint,
// behind it, and the tooltip shows both values.
//
// X axis (setXAxis, x_axis.js): step, wall time or relative time. In a time mode each
// dataset holds mapped copies of its points ({x: time, y, t, seq, step}); each run (the
// shown one, each overlaid one) has its own relative origin, so overlays start together;
// alert markers move to their step's time; the reported zoom range is in axis units.
import { numericTick, useAxisTicks } from './axis_ticks.js';
import { chartMarkersPlugin } from './chart_markers.js';
import { makeExternalTooltip } from './chart_tooltip.js';
import { smoothPoints } from './smoothing.js';
import { axisTitle, formatTick, mapPoints, originOf, spansDays, timeTicks } from './x_axis.js';

// Distinct on the dark background, and far from the fixed train/val colors (blue, orange).
const PALETTE = ['#5b9cff', '#ffa94d', '#63e6be', '#f783ac', '#b197fc', '#ffd43b',
  '#ff6b6b', '#66d9e8', '#e599f7', '#a9e34b', '#dee2e6', '#c0a36e'];
const FIXED_COLORS = { 'train/loss': '#5b9cff', 'val/loss': '#ffa94d' };

/** Series with at most this many points are drawn with visible points. */
const SPARSE_POINTS = 60;

export const isLossMetric = (metric) => /loss/i.test(metric);

/** A line color at a quarter of its strength: the raw series behind a smoothed one. */
function fade(color) {
  const m = /^#([0-9a-f]{6})$/i.exec(color || '');
  if (!m) return color;
  const n = Number.parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, 0.28)`;
}

/** What the zoom hint says while not zoomed: touch screens pinch, mice scroll and drag. */
export function zoomHint() {
  const touch = typeof window.matchMedia === 'function' && window.matchMedia('(pointer: coarse)').matches;
  return touch ? 'Pinch to zoom · swipe sideways to pan when zoomed · double-tap to reset'
    : 'Scroll or drag to zoom · Shift-drag to pan';
}

export class LossChart {
  /**
   * @param canvas   the <canvas>
   * @param Chart    the Chart.js constructor (window.Chart)
   * @param options  {tooltipEl, getRunStart, onRangeChange(range|null)}; zoom comes later
   *                 (enableZoom)
   */
  constructor(canvas, Chart, { tooltipEl, getRunStart, onRangeChange }) {
    this.Chart = Chart;
    this.onRangeChange = onRangeChange;
    this.colors = new Map();
    this.zoomEnabled = false;
    this.logScale = false;
    this.multiRank = false;
    this.markers = [];
    /** Something besides the datasets changed since the last draw (axis, smoothing, markers). */
    this.dirty = false;
    this.smoothing = 0;
    this.xMode = 'step';
    useAxisTicks(Chart);

    const css = getComputedStyle(document.documentElement);
    const textColor = css.getPropertyValue('--text-dim').trim() || '#9aa4b2';
    const gridColor = css.getPropertyValue('--grid').trim() || 'rgba(255,255,255,0.06)';
    Chart.defaults.color = textColor;
    Chart.defaults.font.family = css.getPropertyValue('--font-ui').trim() || 'system-ui, sans-serif';
    Chart.defaults.font.size = 12;

    const self = this;
    this.canvas = canvas;
    // Made by the first render that has a series to draw (ensureChart): an empty chart drawn
    // first would lay out and draw everything twice before the page's first real chart.
    this.chart = null;
    this.config = {
      type: 'line',
      data: { datasets: [] },
      // beforeInit: the chart's first draw happens inside its constructor, and already
      // needs this.chart (time ticks) and the markers.
      plugins: [{ id: 'tsLossChart', beforeInit: (chart) => this.adopt(chart) }, chartMarkersPlugin],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        normalized: true,
        // Points are stored as {x, y, t, seq} sorted by x: Chart.js can use them unparsed.
        parsing: false,
        spanGaps: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        elements: {
          point: { radius: 0, hoverRadius: 4, hitRadius: 6 },
          line: { borderWidth: 1.6, tension: 0 },
        },
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: 'step' },
            grid: { color: gridColor },
            // Steps are integers; a zoomed axis ends at fractional steps: label neither end.
            ticks: {
              maxRotation: 0,
              autoSkipPadding: 16,
              precision: 0,
              includeBounds: false,
              // Chart.js calls it with the scale as `this`.
              callback(value, i, ticks) {
                return self.xMode === 'step' ? numericTick(value, ticks) : formatTick(value, self.xMode, self.timeTick);
              },
            },
            // Time modes: ticks on round clock times or durations (x_axis.js), not round ms.
            afterBuildTicks: (scale) => this.buildTimeTicks(scale),
          },
          y: {
            type: 'linear',
            position: 'left',
            title: { display: true, text: 'loss' },
            grid: { color: gridColor },
          },
        },
        plugins: {
          legend: { display: false },
          decimation: { enabled: false },  // the series store bounds the points itself
          tooltip: {
            enabled: false,
            external: this.tooltipHandler(tooltipEl, getRunStart),
            // While smoothing, the smoothed point carries the raw value too: one row each.
            filter: (item) => !(this.smoothing > 0 && item.dataset.smoothedBy),
          },
        },
      },
    };
    canvas.addEventListener('dblclick', () => this.resetZoom());
    // No pointer leaves the canvas after a tap: a touch anywhere else closes the tooltip.
    document.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' || e.target === canvas || !this.chart) return;
      const tooltip = this.chart.tooltip;
      if (!tooltip || tooltip.getActiveElements().length === 0) return;
      tooltip.setActiveElements([], { x: 0, y: 0 });
      this.chart.setActiveElements([]);
      this.chart.update('none');
    }, { passive: true });
  }

  /**
   * Turns on zoom and pan (chartjs-plugin-zoom). The page loads the plugin after its first
   * chart is drawn: running it (and hammer.js) first would delay that chart.
   */
  enableZoom(zoomPlugin) {
    this.Chart.register(zoomPlugin);  // idempotent (the UMD build registers itself)
    this.zoomEnabled = true;
    const rangeDone = () => this.reportRange();
    // The options Chart.js holds (it keeps the object it was made with): the next update
    // gives the plugin its options and starts it.
    this.config.options.plugins.zoom = {
      limits: { x: { minRange: this.xMode === 'step' ? 4 : 10 } },  // as setXAxis sets it
      // A mouse pans with shift held; a finger only once zoomed (else it moves the tooltip).
      pan: {
        enabled: true,
        mode: 'x',
        modifierKey: 'shift',
        onPanStart: ({ chart, event }) => event.pointerType === 'mouse' || chart.isZoomedOrPanned(),
        onPanComplete: rangeDone,
      },
      zoom: {
        mode: 'x',
        wheel: { enabled: true, speed: 0.15 },
        pinch: { enabled: true },
        drag: {
          enabled: true,
          threshold: 6,
          backgroundColor: 'rgba(91, 156, 255, 0.14)',
          borderColor: 'rgba(91, 156, 255, 0.7)',
          borderWidth: 1,
        },
        onZoomComplete: rangeDone,
      },
    };
    if (this.chart) this.chart.update('none');
  }

  /** The chart's options: Chart.js's own once the chart exists, else those it will be made with. */
  get options() {
    return this.chart ? this.chart.options : this.config.options;
  }

  adopt(chart) {
    this.chart = chart;
    chart.$tsMarkers = this.placedMarkers || this.markers;
  }

  /**
   * The HTML tooltip; its elapsed time counts from the start of the run the hovered point
   * belongs to (an overlaid run's own start, not the shown run's).
   */
  tooltipHandler(tooltipEl, getRunStart) {
    let start = NaN;
    const show = makeExternalTooltip(tooltipEl, () => (Number.isFinite(start) ? start : getRunStart()),
      () => this.xMode);
    return (context) => {
      const first = context.tooltip.dataPoints && context.tooltip.dataPoints[0];
      start = first && first.dataset.overlay ? first.dataset.runStart : NaN;
      show(context);
    };
  }

  /** Alert markers [{step, severity, label, t?}], drawn from the next render on. */
  setMarkers(markers) {
    this.markers = markers;
    this.dirty = true;
    // On a time axis they are placed (given an x) at the next render.
    if (this.xMode === 'step') this.showMarkers(markers);
  }

  /**
   * The x axis: 'step', 'wall' or 'relative' (x_axis.js). Applies at the next render; the
   * caller resets the zoom first (a range in one unit means nothing in another).
   */
  setXAxis(mode) {
    this.xMode = mode;
    this.dirty = true;
    const x = this.options.scales.x;
    x.title.text = axisTitle(mode);
    // A time axis ends where the data (or the zoom) ends, not at a round millisecond count.
    x.bounds = mode === 'step' ? 'ticks' : 'data';
    const zoom = this.options.plugins.zoom;
    if (zoom && zoom.limits) zoom.limits.x.minRange = mode === 'step' ? 4 : 10;
  }

  /** afterBuildTicks of the x axis: in a time mode, round times replace the linear ticks. */
  buildTimeTicks(scale) {
    if (this.xMode === 'step') return;
    // About one label per 90 px; autoSkip still drops labels that would collide.
    const maxTicks = Math.max(2, Math.min(10, Math.floor((scale.width || scale.chart.width || 600) / 90)));
    const { values, step } = timeTicks(scale.min, scale.max, this.xMode, maxTicks);
    this.timeTick = { step, withDate: this.xMode === 'wall' && spansDays(scale.min, scale.max) };
    scale.ticks = values.map((value) => ({ value }));
  }

  /** The visible step range while zoomed, else null. */
  zoomRange() {
    const chart = this.chart;
    if (!chart || !this.zoomEnabled || !chart.isZoomedOrPanned || !chart.isZoomedOrPanned()) return null;
    const { min, max } = chart.scales.x;
    return { from: Math.floor(min), to: Math.ceil(max) };
  }

  reportRange() {
    if (this.onRangeChange) this.onRangeChange(this.zoomRange());
  }

  resetZoom() {
    // Not zoomed: nothing to reset, and no redraw (the page resets on every run it shows).
    if (this.chart && this.zoomEnabled && this.chart.resetZoom && (!this.chart.isZoomedOrPanned || this.chart.isZoomedOrPanned())) {
      this.chart.resetZoom('none');
    }
    if (this.onRangeChange) this.onRangeChange(null);
  }

  setLogScale(on) {
    this.logScale = on;
    this.options.scales.y.type = on ? 'logarithmic' : 'linear';
    if (this.chart) this.chart.update('none');
  }

  colorFor(series) {
    if (!this.colors.has(series.key)) {
      const fixed = !series.overlay && (series.rank === 0 || !this.multiRank) ? FIXED_COLORS[series.metric] : null;
      const used = new Set(this.colors.values());
      const reserved = new Set(Object.values(FIXED_COLORS));
      const free = PALETTE.find((c) => !used.has(c) && !reserved.has(c)) || PALETTE.find((c) => !used.has(c));
      this.colors.set(series.key, fixed && !used.has(fixed) ? fixed : (free || PALETTE[this.colors.size % PALETTE.length]));
    }
    return this.colors.get(series.key);
  }

  /** Frees a series' color (an overlay removed), so the palette does not run out. */
  releaseColor(key) {
    this.colors.delete(key);
  }

  labelFor(series) {
    if (series.label) return series.label;
    return this.multiRank ? `${series.metric} [rank ${series.rank}]` : series.metric;
  }

  /** Smoothing weight in [0, 1); 0 draws the series as they are. Applies at the next render. */
  setSmoothing(weight) {
    this.smoothing = weight > 0 ? weight : 0;
    this.dirty = true;
  }

  /**
   * Points the datasets at the current data and redraws.
   * @param seriesList  Series in display order
   * @param visible     Set of series keys to show
   * @param detail      {points: Map key -> points, version} for the zoomed range, or null
   * @param options     {multiRank}: label series by rank even if only one rank is listed
   */
  /** Whether labels name ranks (labelFor): set by render, or before it for the legend. */
  noteMultiRank(seriesList, multiRank = false) {
    this.multiRank = multiRank || new Set(seriesList.filter((s) => !s.overlay).map((s) => s.rank)).size > 1;
  }

  render(seriesList, visible, detail, { multiRank = false } = {}) {
    const chart = this.chart;
    this.noteMultiRank(seriesList, multiRank);
    const current = chart ? chart.data.datasets : [];
    const byKey = new Map(current.map((d) => [d.seriesKey, d]));
    // Relative time: the shown run's origin, and each overlaid run's own.
    const primary = seriesList.filter((s) => !s.overlay);
    const runOrigin = this.xMode === 'relative' ? originOf(primary) : 0;
    const originFor = (s) => (this.xMode !== 'relative' ? 0 : s.overlay ? originOf([s]) : runOrigin);
    const datasets = seriesList.map((s) => {
      const fromDetail = detail && detail.points.get(s.key);
      const source = fromDetail || s.points;
      // Sparse series (validation every N steps) show their points. The radius is fixed
      // per dataset object: update('none') never re-resolves options shared by existing
      // points, so a change of radius gets a fresh dataset (and Chart.js a fresh controller).
      const radius = source.length <= SPARSE_POINTS ? 2.5 : 0;
      let d = byKey.get(s.key);
      // Likewise a line that turns faint (smoothing on) or back gets a fresh dataset.
      if (!d || d.pointRadius !== radius || Boolean(d.smoothedBy) !== this.smoothing > 0) d = this.newDataset(s, radius);
      d.label = this.labelFor(s);
      d.hidden = !visible.has(s.key);
      if (s.overlay) d.runStart = s.runStart;
      this.sync(d, source, fromDetail ? `d${detail.version}` : null, s, originFor(s));
      return d;
    });
    this.placeMarkers(primary, runOrigin);
    if (this.smoothing > 0) {
      // Each series' smoothed line after all raw ones: drawn on top (order 0 beats order 1).
      for (const d of datasets.slice()) datasets.push(this.smoothedOf(d, byKey.get(`${d.seriesKey}~smooth`)));
    }
    for (const d of datasets) {
      if (d.smoothed) continue;
      const faint = this.smoothing > 0;
      d.smoothedBy = faint;
      d.order = faint ? 1 : 0;
      d.borderColor = faint ? fade(d.baseColor) : d.baseColor;
      d.backgroundColor = d.borderColor;
    }
    const changed = datasets.length !== current.length || datasets.some((d, i) => d !== current[i]);
    // An empty chart that stays empty, nothing else changed (a run being loaded): no redraw.
    const idle = !changed && !datasets.length && !this.dirty;
    this.dirty = false;
    this.syncAxes(seriesList, visible);
    if (!chart) {
      // Nothing drawn yet: the chart is made with its first series, laid out and drawn once
      // (at the canvas's size: the constructor measures it).
      if (!datasets.length) return;
      this.config.data.datasets = datasets;
      new this.Chart(this.canvas, this.config);  // eslint-disable-line no-new -- adopt() keeps it
      return;
    }
    if (changed) chart.data.datasets = datasets;
    // The box around the chart changed size (chips or statistics filled in since the last
    // draw): resize() redraws at the new size now, instead of this draw and then the resize
    // observer's a frame later. Same size: resize() does nothing.
    const { width, height } = chart;
    chart.resize();
    if (chart.width !== width || chart.height !== height || idle) return;
    chart.update('none');
  }

  /** Losses share the left axis; every other metric gets its own right-hand axis. */
  axisFor(series) {
    return isLossMetric(series.metric) ? 'y' : `m:${series.key}`;
  }

  /** One right-hand axis per shown non-loss series, in its color; the loss axis when needed. */
  syncAxes(seriesList, visible) {
    const scales = this.options.scales;
    const wanted = new Set(['x', 'y']);
    for (const s of seriesList) {
      const id = this.axisFor(s);
      if (id === 'y') continue;
      wanted.add(id);
      const color = this.colorFor(s);
      if (!scales[id]) {
        scales[id] = {
          type: 'linear',
          position: 'right',
          grid: { drawOnChartArea: false },
          ticks: { color, maxTicksLimit: 6 },
          title: { display: true, color },
        };
      }
      scales[id].display = visible.has(s.key);
      scales[id].title.text = this.labelFor(s);
    }
    for (const id of Object.keys(scales)) if (!wanted.has(id)) delete scales[id];
    const anyLoss = seriesList.some((s) => visible.has(s.key) && isLossMetric(s.metric));
    const anyOther = seriesList.some((s) => visible.has(s.key) && !isLossMetric(s.metric));
    scales.y.display = anyLoss || !anyOther;
  }

  /**
   * The smoothed companion of a raw dataset: recomputed only when what it smooths changed
   * (its points grew or were replaced, or the weight moved).
   */
  smoothedOf(raw, previous) {
    const d = previous || {
      seriesKey: `${raw.seriesKey}~smooth`,
      smoothed: true,
      pointRadius: 0,
      order: 0,
      data: [],
    };
    Object.assign(d, {
      metric: raw.metric, rank: raw.rank, sessionId: raw.sessionId, overlay: raw.overlay, label: raw.label,
      hidden: raw.hidden, yAxisID: raw.yAxisID, borderColor: raw.baseColor, backgroundColor: raw.baseColor,
      runStart: raw.runStart,
    });
    const version = `${raw.sourceEpoch}:${raw.data.length}:${this.smoothing}`;
    if (d.smoothVersion !== version || d.smoothSource !== raw.data) {
      d.data = smoothPoints(raw.data, this.smoothing);
      d.smoothVersion = version;
      d.smoothSource = raw.data;
    }
    return d;
  }

  newDataset(series, radius) {
    const color = this.colorFor(series);
    return {
      baseColor: color,
      seriesKey: series.key,
      metric: series.metric,
      rank: series.rank,
      sessionId: series.sessionId || null,
      overlay: Boolean(series.overlay),
      borderColor: color,
      backgroundColor: color,
      yAxisID: this.axisFor(series),
      pointRadius: radius,
      data: [],
      source: null,
    };
  }

  /**
   * Brings a dataset's own array in line with its source. The chart never holds the store's
   * arrays (the store appends and re-buckets between frames; what Chart.js holds must stay
   * what it drew, and within the cap): when the source only grew at the end since the last
   * frame, the new points are appended (Chart.js then handles just those); after anything
   * else (re-bucketing, a snapshot merge, an out-of-order point, zoom detail) it is copied.
   */
  sync(d, source, detailVersion, series, origin) {
    const mode = this.xMode;
    // A new axis mode or relative origin maps every point again.
    const epoch = `${detailVersion || `s${series.epoch}`}|${mode}|${origin}`;
    if (d.source === source && d.sourceEpoch === epoch) {
      if (source.length <= d.data.length) return;
      const fresh = source.slice(d.data.length);
      if (mode === 'step') {
        d.data.push(...fresh);
        return;
      }
      const mapped = mapPoints(fresh, mode, origin);
      const last = d.data[d.data.length - 1];
      // Appended in time order (the usual case): add them; else map the whole copy again.
      if (!last || mapped[0].x >= last.x) {
        d.data.push(...mapped);
        return;
      }
    }
    d.source = source;
    d.sourceEpoch = epoch;
    d.data = mode === 'step' ? source.slice() : mapPoints(source, mode, origin);
  }

  /**
   * Alert markers at their x: the step itself, or in a time mode the time of the shown
   * run's point at that step, else (decimated away) the alert's own time, else the time of
   * the nearest held point before it. The markers plugin draws chart.$tsMarkers at m.x.
   */
  placeMarkers(primary, origin) {
    const mode = this.xMode;
    if (mode === 'step') {
      this.showMarkers(this.markers);
      return;
    }
    const points = (primary[0] && primary[0].points) || [];
    this.showMarkers(this.markers.map((m) => {
      let lo = 0;
      let hi = points.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (points[mid].x <= m.step) lo = mid + 1;
        else hi = mid;
      }
      const p = points[lo - 1];
      const exact = p && p.x === m.step;
      const t = exact || !Number.isFinite(Number(m.t)) ? (p || points[0] || {}).t : Number(m.t);
      return { ...m, x: mode === 'wall' ? t : t - origin };
    }));
  }

  /** What the markers plugin draws (from the chart's next draw, or its first). */
  showMarkers(placed) {
    this.placedMarkers = placed;
    if (this.chart) this.chart.$tsMarkers = placed;
  }

  destroy() {
    if (this.chart) this.chart.destroy();
    this.chart = null;
  }
}
