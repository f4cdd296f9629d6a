// The chart's hover tooltip, drawn as an HTML element (Chart.js "external" tooltip) so it is
// styled like the rest of the page and readable by tests: iteration, value (4 significant
// digits; while smoothing, the smoothed value and the raw one), wall-clock timestamp and time
// elapsed since the run started.
import { formatElapsed, formatTimestamp, formatValue } from './format.js';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Returns a Chart.js `plugins.tooltip.external` handler that fills `tooltipEl`.
 * `getRunStart()` gives the run's start (Unix ms) for the elapsed time.
 */
export function makeExternalTooltip(tooltipEl, getRunStart) {
  return ({ chart, tooltip }) => {
    if (tooltip.opacity === 0 || !tooltip.dataPoints || tooltip.dataPoints.length === 0) {
      tooltipEl.hidden = true;
      tooltipEl.dataset.step = '';
      return;
    }
    // The nearest points share one step (or nearly); the first one names the iteration.
    const points = tooltip.dataPoints.slice(0, 6);
    const head = points[0].raw;
    const start = getRunStart();

    tooltipEl.replaceChildren();
    const title = el('div', 'tt-title');
    title.append(el('span', 'tt-key', 'Iteration'), el('span', 'tt-iter', String(head.x)));
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
      if (dp.raw.x !== head.x) row.append(el('span', 'tt-note', `@ ${dp.raw.x}`));
      tooltipEl.append(row);
    }

    const time = el('div', 'tt-row tt-meta');
    time.append(el('span', 'tt-key', 'Time'), el('span', 'tt-time', formatTimestamp(head.t)));
    const elapsed = el('div', 'tt-row tt-meta');
    elapsed.append(el('span', 'tt-key', 'Elapsed'),
      el('span', 'tt-elapsed', Number.isFinite(start) ? formatElapsed(head.t - start) : '—'));
    tooltipEl.append(time, elapsed);

    tooltipEl.dataset.step = String(head.x);
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
