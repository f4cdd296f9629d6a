// The series chips above the chart: one toggle per series, colored like its line, showing
// the latest value. They are the chart's legend and its series selector. The system plugin's
// series (a dozen with GPUs) sit folded in one group at the end, so they do not crowd the
// trainer's own; they stay one tap away.
import { formatValue } from './format.js';
import { isSystemMetric } from './system_panel.js';

export class SeriesChips {
  /**
   * @param root     container element
   * @param onToggle (seriesKey, checked) -> void
   */
  constructor(root, onToggle) {
    this.root = root;
    this.onToggle = onToggle;
    this.chips = new Map();
  }

  /**
   * @param seriesList Series in display order
   * @param visible    Set of shown keys
   * @param colorOf    (series) -> css color
   * @param labelOf    (series) -> label text
   */
  render(seriesList, visible, colorOf, labelOf) {
    const seen = new Set();
    const grouped = seriesList.filter((s) => isSystemMetric(s.metric));
    const main = seriesList.filter((s) => !isSystemMetric(s.metric));
    const group = this.systemGroup(grouped.length);
    const place = (parent, el, index) => {
      if (parent.children[index] !== el) parent.insertBefore(el, parent.children[index] || null);
    };
    if (group) place(this.root, group.root, main.length);
    const rendered = [...main.map((s, i) => [s, this.root, i]), ...grouped.map((s, i) => [s, group.list, i])];
    rendered.forEach(([s, parent, index]) => {
      seen.add(s.key);
      let chip = this.chips.get(s.key);
      if (!chip) {
        chip = this.make(s);
        this.chips.set(s.key, chip);
      }
      place(parent, chip.root, index);
      chip.input.checked = visible.has(s.key);
      chip.root.dataset.checked = String(chip.input.checked);
      chip.swatch.style.background = colorOf(s);
      setText(chip.label, labelOf(s));
      const p = s.latest();
      setText(chip.value, p ? formatValue(p.y, 4) : '…');
    });
    for (const [key, chip] of this.chips) {
      if (!seen.has(key)) {
        chip.root.remove();
        this.chips.delete(key);
      }
    }
  }

  /** The folded group of system series (made on first need, removed when empty). */
  systemGroup(count) {
    if (!count) {
      if (this.group) this.group.root.remove();
      this.group = null;
      return null;
    }
    if (!this.group) {
      const root = document.createElement('details');
      root.className = 'chip-group';
      root.dataset.testid = 'system-chips';
      const summary = document.createElement('summary');
      summary.className = 'chip chip-group-summary';
      const list = document.createElement('span');
      list.className = 'chip-group-list';
      root.append(summary, list);
      this.group = { root, summary, list };
    }
    const text = `system (${count})`;
    if (this.group.summary.textContent !== text) this.group.summary.textContent = text;
    return this.group;
  }

  make(s) {
    const root = document.createElement('label');
    root.className = 'chip';
    root.dataset.testid = 'series-chip';
    root.dataset.series = s.key;
    root.dataset.metric = s.metric;
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.addEventListener('change', () => this.onToggle(s.key, input.checked));
    const swatch = document.createElement('span');
    swatch.className = 'chip-swatch';
    const label = document.createElement('span');
    label.className = 'chip-label';
    const value = document.createElement('span');
    value.className = 'chip-value';
    root.append(input, swatch, label, value);
    return { root, input, swatch, label, value };
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
