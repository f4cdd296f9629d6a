// The chart's hover tooltip, drawn as an HTML element (Chart.js "external" tooltip) so it is
// styled like the rest of the page and readable by tests: iteration, value (4 significant
// digits; while smoothing, the smoothed value and the raw one), wall-clock timestamp and time
// elapsed since the run started; on a relative-time axis also that axis value (time since the
// run's first point, x_axis.js). The element's data-step and data-x say what was hovered.
import { formatElapsed, formatTimestamp, formatValue } from './format.js';
import { formatDuration } from './x_axis.js';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Returns a Chart.js `plugins.tooltip.external` handler that fills `tooltipEl`.
 * `getRunStart()` gives the run's start (Unix ms) for the elapsed time; `getXMode()` the
 * x axis ('step', 'wall', 'relative'): on a time axis a point's step is its `step`.
 */
export function makeExternalTooltip(tooltipEl, getRunStart, getXMode = () => 'step') {
  return ({ chart, tooltip }) => {
    if (tooltip.opacity === 0 || !tooltip.dataPoints || tooltip.dataPoints.length === 0) {
      tooltipEl.hidden = true;
      tooltipEl.dataset.step = '';
      tooltipEl.dataset.x = '';
      return;
    }
    // The nearest points share one step (or nearly); the first one names the iteration.
    const points = tooltip.dataPoints.slice(0, 6);
    const head = points[0].raw;
    const start = getRunStart();
    const mode = getXMode();
    const stepOf = (p) => (p.step === undefined ? p.x : p.step);
    const headStep = stepOf(head);

    tooltipEl.replaceChildren();
    const title = el('div', 'tt-title');
    title.append(el('span', 'tt-key', 'Iteration'), el('span', 'tt-iter', String(headStep)));
    tooltipEl.append(title);

    for (const dp of points) {
      const row = el('div', 'tt-row');
      const swatch = el('span', 'tt-swatch');
      swatch.style.background = dp.dataset.borderColor;
      const isLoss = /loss/i.test(dp.dataset.metric || dp.dataset.label);
      row.append(swatch, el('span', 'tt-key', isLoss ? `Loss (${dp.dataset.label})` : dp.dataset.label),
        el('span', 'tt-value', formatValue(dp.raw.y, 4)));
      // A smoothed point: its own value beside the average.
      if (dp.dataset.smoothed) row.append(el('span', 'tt-raw', `raw ${formatValue(dp.raw.rawY, 4)}`));
      if (stepOf(dp.raw) !== headStep) row.append(el('span', 'tt-note', `@ ${stepOf(dp.raw)}`));
      tooltipEl.append(row);
    }

    const time = el('div', 'tt-row tt-meta');
    time.append(el('span', 'tt-key', 'Time'), el('span', 'tt-time', formatTimestamp(head.t)));
    const elapsed = el('div', 'tt-row tt-meta');
    elapsed.append(el('span', 'tt-key', 'Elapsed'),
      el('span', 'tt-elapsed', Number.isFinite(start) ? formatElapsed(head.t - start) : '—'));
    tooltipEl.append(time, elapsed);
    if (mode === 'relative') {
      const relative = el('div', 'tt-row tt-meta');
      relative.append(el('span', 'tt-key', 'Relative'), el('span', 'tt-relative', formatDuration(head.x, 1)));
      tooltipEl.append(relative);
    }

    tooltipEl.dataset.step = String(headStep);
    tooltipEl.dataset.x = String(head.x);
    tooltipEl.hidden = false;

    // Place beside the caret, inside the chart's box, flipping left/up near the edges. When
    // neither side has room (a phone), above the point or below it: never under the finger.
    const box = chart.canvas.getBoundingClientRect();
    const parentBox = tooltipEl.offsetParent ? tooltipEl.offsetParent.getBoundingClientRect() : box;
    const w = tooltipEl.offsetWidth;
    const h = tooltipEl.offsetHeight;
    let left = tooltip.caretX + 14;
    let top = tooltip.caretY - h / 2;
    if (left + w > chart.width) left = tooltip.caretX - w - 14;
    if (left < 4) {
      left = Math.min(tooltip.caretX - w / 2, chart.width - w - 4);
      top = tooltip.caretY - h - 28 >= 4 ? tooltip.caretY - h - 28 : tooltip.caretY + 28;
    }
    top = Math.max(4, Math.min(top, chart.height - h - 4));
    tooltipEl.style.left = `${box.left - parentBox.left + Math.max(4, left)}px`;
    tooltipEl.style.top = `${box.top - parentBox.top + top}px`;
  };
}
