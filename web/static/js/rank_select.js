// The rank selector of a distributed run (ranks share one session id, each rank's series are
// kept apart): a segmented control "All · 0 · 1 · ..." in the chart toolbar, shown only when
// the run has more than one rank. The choice is kept in the URL (?rank=R).

export const ALL_RANKS = 'all';

function rankFromUrl(search = window.location.search) {
  const raw = new URLSearchParams(search).get('rank');
  const n = Number.parseInt(raw || '', 10);
  return Number.isInteger(n) && n >= 0 ? n : ALL_RANKS;
}

export class RankSelect {
  /**
   * @param root     container element (hidden while the run has one rank)
   * @param onChange (rank number or ALL_RANKS) -> void
   */
  constructor(root, onChange) {
    this.root = root;
    this.onChange = onChange;
    this.ranks = [];
    this.value = rankFromUrl();
    this.wanted = this.value;  // from the URL, applied once the run turns out to have that rank
    this.root.setAttribute('role', 'radiogroup');
    this.root.setAttribute('aria-label', 'Rank');
    this.root.hidden = true;
  }

  /** A different run is shown: back to all ranks (or the URL's rank for the first run). */
  reset() {
    this.value = this.wanted;
    this.wanted = ALL_RANKS;
    this.ranks = [];
    this.paint();
  }

  /** The ranks the shown run has (sorted numbers); repaints only when they change. */
  setRanks(ranks) {
    const sorted = [...new Set(ranks)].sort((a, b) => a - b);
    if (sorted.length === this.ranks.length && sorted.every((r, i) => r === this.ranks[i])) return;
    this.ranks = sorted;
    this.paint();
  }

  /** Does a series of `rank` pass the selection? */
  accepts(rank) {
    return this.value === ALL_RANKS || this.ranks.length <= 1 || rank === this.value;
  }

  get multiRank() {
    return this.ranks.length > 1;
  }

  pick(value) {
    if (value === this.value) return;
    this.value = value;
    const url = new URL(window.location.href);
    if (value === ALL_RANKS) url.searchParams.delete('rank');
    else url.searchParams.set('rank', String(value));
    window.history.replaceState(null, '', url);
    this.paint();
    this.onChange(value);
  }

  paint() {
    const show = this.ranks.length > 1;
    this.root.hidden = !show;
    this.root.dataset.value = String(this.value);
    if (!show) {
      this.root.replaceChildren();
      return;
    }
    const label = document.createElement('span');
    label.className = 'rank-select-label';
    label.textContent = 'Rank';
    label.setAttribute('aria-hidden', 'true');
    const options = [ALL_RANKS, ...this.ranks].map((value) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'rank-option';
      b.textContent = value === ALL_RANKS ? 'All' : String(value);
      b.dataset.rank = String(value);
      b.dataset.testid = 'rank-option';
      b.setAttribute('role', 'radio');
      b.setAttribute('aria-checked', String(value === this.value));
      b.title = value === ALL_RANKS ? 'Show every rank' : `Show rank ${value} only`;
      b.addEventListener('click', () => this.pick(value));
      return b;
    });
    // A rank from the URL the run does not have: show all of them.
    if (this.value !== ALL_RANKS && !this.ranks.includes(this.value)) {
      this.value = ALL_RANKS;
      options[0].setAttribute('aria-checked', 'true');
    }
    const group = document.createElement('span');
    group.className = 'rank-options';
    group.append(...options);
    this.root.replaceChildren(label, group);
    this.root.dataset.value = String(this.value);
  }
}
