// The series chips above the chart: one toggle per series, colored like its line, showing
// the latest value. They are the chart's legend and its series selector.
import { formatValue } from './format.js';

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
    seriesList.forEach((s, index) => {
      seen.add(s.key);
      let chip = this.chips.get(s.key);
      if (!chip) {
        chip = this.make(s);
        this.chips.set(s.key, chip);
      }
      if (this.root.children[index] !== chip.root) this.root.insertBefore(chip.root, this.root.children[index] || null);
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
