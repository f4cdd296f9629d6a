// Trend indicators, one per loss series of the shown run, from the trend plugin's analytics:
// an arrow, a word and a color together (↓ decreasing, ↑ increasing, → stable), never color
// alone. A series that went NaN/Inf or is diverging says so too. Updated live. A badge is a
// button: a tap or click shows its figures (slope, t, change), which a mouse also gets on hover.
import { explain } from './tap_detail.js';

const TRENDS = {
  decreasing: { arrow: '↓', word: 'decreasing' },
  increasing: { arrow: '↑', word: 'increasing' },
  stable: { arrow: '→', word: 'stable' },
  unknown: { arrow: '·', word: 'not enough data' },
};

/** "train/loss@rank1" (the trend plugin's key) -> {metric: "train/loss", rank: 1}. */
export function parseTrendKey(key) {
  const m = /^(.*)@rank(\d+)$/.exec(key);
  return m ? { metric: m[1], rank: Number(m[2]) } : { metric: key, rank: 0 };
}

const order = (m) => (m === 'train/loss' ? 0 : m === 'val/loss' ? 1 : 2);

function fmt(v, digits = 3) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toPrecision(digits) : '—';
}

export class TrendBadges {
  /** @param root container; gets a "Trend" label and one badge per series. */
  constructor(root) {
    this.root = root;
    this.label = document.createElement('span');
    this.label.className = 'trends-key';
    this.label.textContent = 'Trend';
    this.list = document.createElement('span');
    this.list.className = 'trends-list';
    this.root.replaceChildren(this.label, this.list);
    this.badges = new Map();
    this.empty = null;
  }

  /**
   * @param trend     the trend plugin's stats ({series: {key: {trend, slope, t, ...}}}) or null
   * @param accepts   (rank) -> whether that rank is shown
   * @param multiRank label badges with their rank
   */
  update(trend, { accepts = () => true, multiRank = false } = {}) {
    const entries = Object.entries((trend && trend.series) || {})
      .map(([key, v]) => ({ key, ...parseTrendKey(key), v }))
      .filter((e) => e.v && accepts(e.rank))
      .sort((a, b) => order(a.metric) - order(b.metric) || a.metric.localeCompare(b.metric) || a.rank - b.rank);
    const seen = new Set();
    entries.forEach((e, index) => {
      seen.add(e.key);
      let b = this.badges.get(e.key);
      if (!b) {
        b = this.make(e);
        this.badges.set(e.key, b);
      }
      if (this.list.children[index] !== b.root) this.list.insertBefore(b.root, this.list.children[index] || null);
      this.paint(b, e, multiRank);
    });
    for (const [key, b] of this.badges) {
      if (!seen.has(key)) {
        b.root.remove();
        this.badges.delete(key);
      }
    }
    if (entries.length === 0) {
      if (!this.empty) {
        this.empty = document.createElement('span');
        this.empty.className = 'trends-empty';
        this.list.append(this.empty);
      }
      this.empty.textContent = trend ? 'no loss series yet' : 'no trend data';
    } else if (this.empty) {
      this.empty.remove();
      this.empty = null;
    }
  }

  make(e) {
    const root = document.createElement('button');
    root.type = 'button';
    root.className = 'trend-badge';
    root.dataset.testid = 'trend-badge';
    root.dataset.series = e.metric;
    root.dataset.rank = String(e.rank);
    const name = document.createElement('span');
    name.className = 'trend-name';
    const arrow = document.createElement('span');
    arrow.className = 'trend-arrow';
    arrow.setAttribute('aria-hidden', 'true');
    const word = document.createElement('span');
    word.className = 'trend-word';
    const flags = document.createElement('span');
    flags.className = 'trend-flags';
    root.append(name, arrow, word, flags);
    return { root, name, arrow, word, flags };
  }

  paint(b, e, multiRank) {
    const v = e.v;
    const kind = TRENDS[v.trend] ? v.trend : 'unknown';
    const t = TRENDS[kind];
    b.root.dataset.trend = kind;
    b.root.dataset.diverged = String(Boolean(v.diverged));
    b.root.dataset.nonFinite = String(Boolean(v.non_finite));
    const label = multiRank ? `${e.metric} [rank ${e.rank}]` : e.metric;
    if (b.name.textContent !== label) b.name.textContent = label;
    if (b.arrow.textContent !== t.arrow) b.arrow.textContent = t.arrow;
    if (b.word.textContent !== t.word) b.word.textContent = t.word;
    const flags = [];
    if (v.non_finite) flags.push('NaN');
    if (v.diverged) flags.push('diverging');
    const flagText = flags.join(' · ');
    if (b.flags.textContent !== flagText) b.flags.textContent = flagText;
    b.flags.hidden = !flagText;
    explain(b.root, `${label}: ${t.word} over the last ${v.n ?? '?'} points` +
      (kind === 'unknown' ? '' : ` (slope ${fmt(v.slope)} per step, t = ${fmt(v.t)}, change ${fmt(100 * v.relative_change, 2)} %)`) +
      (v.non_finite ? '; has NaN/Inf values' : '') + (v.diverged ? '; diverging from its recent minimum' : ''));
    b.root.setAttribute('aria-label', `${label} ${t.word}${flagText ? `, ${flagText}` : ''}`);
  }
}
