// The text fallback for when Chart.js cannot be loaded: says so, and shows the latest value
// of every series (step, value, time), updated live from the same series store.
import { formatTimestamp, formatValue } from './format.js';

export class FallbackTable {
  /** @param panel the fallback section; holds [data-role=reason] and a <tbody> */
  constructor(panel) {
    this.panel = panel;
    this.reason = panel.querySelector('[data-role=reason]');
    this.body = panel.querySelector('tbody');
    this.rows = new Map();
    this.active = false;
  }

  show(reason) {
    this.active = true;
    this.reason.textContent = reason;
    this.panel.hidden = false;
  }

  render(seriesList) {
    if (!this.active) return;
    const multiRank = new Set(seriesList.map((s) => s.rank)).size > 1;
    if (seriesList.length === 0 && this.rows.size === 0) return;
    const seen = new Set();
    for (const s of seriesList) {
      seen.add(s.key);
      let row = this.rows.get(s.key);
      if (!row) {
        row = document.createElement('tr');
        row.dataset.series = s.key;
        row.dataset.metric = s.metric;
        for (const field of ['metric', 'step', 'value', 'time']) {
          const td = document.createElement('td');
          td.dataset.field = field;
          row.append(td);
        }
        this.rows.set(s.key, row);
        this.body.append(row);
      }
      const p = s.latest();
      const cells = row.children;
      setText(cells[0], multiRank ? `${s.metric} (rank ${s.rank})` : s.metric);
      setText(cells[1], p ? String(p.x) : '—');
      setText(cells[2], p ? formatValue(p.y, 6) : '—');
      setText(cells[3], p ? formatTimestamp(p.t) : '—');
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.remove();
        this.rows.delete(key);
      }
    }
    this.panel.querySelector('[data-role=empty]').hidden = this.rows.size > 0;
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
