// The run picker in the header: a button naming the shown run that opens the session list —
// every run, newest first, with its status (colored badge and word), name, start time,
// duration and latest loss, plus "follow newest" (the default: switch to each new run as it
// starts) and a Compare box per run that overlays that run's train/loss on the chart.
// Finished, failed and crashed runs come from the agent's database and stay browsable.
// The page holds only the newest runs (the agent's hello); a search box narrows the list as
// you type, at once among those and then through the agent (GET /api/runs?q=, which also
// looks in notes and tags), so a run of thousands is found too. At most MAX_ROWS rows are
// built. An ended run can be deleted (after a confirmation naming it and its point count).
// "All runs" opens the runs table (#runs).
import * as api from './api.js';
import { formatElapsed, formatValue } from './format.js';
import { explain } from './tap_detail.js';

export const FOLLOW = '';

const STATUS_ICON = { running: '●', finished: '✓', failed: '!', crashed: '✕' };
/** Latest losses of running runs are fetched again after this long (finished ones once). */
const LOSS_MAX_AGE_MS = 5000;
/** Rows built at most; the search narrows the rest. */
export const MAX_ROWS = 200;

/** How long typing pauses before the agent is asked. */
const SEARCH_DELAY_MS = 150;

/** Whether a run matches what was typed in the search box (name, trainer's name, notes, tags or id, any case). */
export function runMatches(run, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return [run.name, run.original_name, run.notes, (run.tags || []).join(' '), run.session_id]
    .some((text) => (text || '').toLowerCase().includes(q));
}

// Made once: toLocaleDateString(locales, options) builds a formatter per call, per row.
let dayFormat = null;

export function startedText(ms, now = new Date()) {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return time;
  if (!dayFormat) dayFormat = new Intl.DateTimeFormat([], { month: 'short', day: 'numeric' });
  return `${dayFormat.format(d)} ${time}`;
}

export function runDurationMs(run, now = Date.now()) {
  if (run.status === 'running') return now - run.started_ms;
  if (Number.isFinite(run.duration_ms)) return run.duration_ms;
  return (run.ended_ms || run.last_ms || run.started_ms) - run.started_ms;
}

/** The loss series a run's list entry shows: train/loss, else the first "*loss*" metric. */
export function lossMetricOf(run) {
  const metrics = run.metrics || [];
  if (metrics.includes('train/loss')) return 'train/loss';
  return metrics.find((m) => /loss/i.test(m) && !m.includes('/iters_per_s')) || null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function statusBadge(status) {
  const b = el('span', 'status-badge');
  b.dataset.status = status || 'unknown';
  const icon = el('span', 'status-icon', STATUS_ICON[status] || '?');
  icon.setAttribute('aria-hidden', 'true');
  b.append(icon, el('span', 'status-word', status || 'unknown'));
  return b;
}

export class RunPicker {
  /**
   * @param button   the header button that opens the list (its parent holds the popover)
   * @param badge    the status badge of the shown run
   * @param meta     element for host/pid/duration text
   * @param onPick   (sessionId or FOLLOW) -> void
   * @param options  {onCompare(sessionId, checked), isCompared(sessionId),
   *                  compareColor(sessionId) -> css color or null, maxCompared,
   *                  onDelete(run) -> Promise (rejects with the reason),
   *                  searchRuns(query) -> Promise<{runs, next_cursor}> (the agent's search)}
   */
  constructor(button, badge, meta, onPick, options = {}) {
    this.button = button;
    this.badge = badge;
    this.meta = meta;
    this.onPick = onPick;
    this.options = options;
    this.runs = [];
    this.chosen = FOLLOW;
    this.current = null;
    /** sessionId -> {point: [step, t, value] | null, at, pending} */
    this.losses = new Map();
    this.open = false;
    this.query = '';
    this.total = null;
    /** The agent's answer for a query: {query, runs, more}. */
    this.found = null;

    button.setAttribute('aria-haspopup', 'dialog');
    button.setAttribute('aria-expanded', 'false');
    this.label = el('span', 'run-button-name', 'Newest run (follow)');
    this.tag = el('span', 'run-button-tag', 'following newest');
    this.tag.hidden = true;
    const caret = el('span', 'run-button-caret');
    caret.setAttribute('aria-hidden', 'true');
    button.replaceChildren(this.label, this.tag, caret);

    this.popover = el('div', 'run-popover');
    this.popover.id = 'run-popover';
    this.popover.hidden = true;
    this.popover.setAttribute('role', 'dialog');
    this.popover.setAttribute('aria-label', 'Runs');
    this.popover.dataset.testid = 'run-list';
    button.setAttribute('aria-controls', this.popover.id);
    button.parentElement.append(this.popover);

    button.addEventListener('click', () => this.toggle());
    document.addEventListener('pointerdown', (e) => {
      if (this.open && !this.popover.contains(e.target) && !button.contains(e.target)) this.close();
    });
    document.addEventListener('keydown', (e) => {
      if (this.open && e.key === 'Escape') {
        e.stopPropagation();
        this.close();
        button.focus();
      }
    }, true);
    this.ticker = null;
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  show() {
    this.open = true;
    this.popover.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.renderList();
    this.fetchLosses();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => {
      this.renderList();
      this.fetchLosses();
    }, 1000);
    const focus = this.popover.querySelector('[aria-current="true"] .run-open') || this.popover.querySelector('.run-open');
    if (focus) focus.focus({ preventScroll: true });
  }

  close() {
    if (!this.open) return;
    this.open = false;
    this.popover.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    clearInterval(this.ticker);
    this.ticker = null;
  }

  /** Asks the agent for runs matching the query once typing pauses. */
  searchSoon() {
    clearTimeout(this.searchTimer);
    const query = this.query.trim();
    if (!query || !this.options.searchRuns) {
      this.found = null;
      return;
    }
    this.searchTimer = setTimeout(async () => {
      try {
        const page = await this.options.searchRuns(query);
        if (query !== this.query.trim()) return;  // typed on meanwhile
        this.found = { query, runs: page.runs || [], more: Boolean(page.next_cursor) };
      } catch {
        this.found = null;  // the page's own runs still narrow the list
      }
      this.refresh();
      this.fetchLosses();
    }, SEARCH_DELAY_MS);
  }

  /** Replaces the list (runs newest first). `chosen` is FOLLOW or a session id; `total` how many the agent stores. */
  setRuns(runs, chosen, current, total = null) {
    const changed = this.runs !== runs || this.runs.length !== runs.length;
    this.runs = runs;
    this.total = total;
    // A run deleted or started since the search: ask again.
    if (changed && this.found) this.searchSoon();
    this.chosen = chosen;
    this.current = current;
    this.paintButton();
    this.showRun(current);
    if (this.open) this.renderList();
  }

  /** The page knows a run's newest loss point from its live data: [step, t, value]. */
  noteLoss(sessionId, point) {
    if (!point) return;
    this.losses.set(sessionId, { point, at: Date.now(), pending: false, live: true });
  }

  /** Repaints the open list (compare boxes changed, say). */
  refresh() {
    if (this.open) this.renderList();
  }

  paintButton() {
    const current = this.current;
    const follow = this.chosen === FOLLOW;
    const name = current ? current.name : (follow ? 'Newest run (follow)' : 'Loading…');
    if (this.label.textContent !== name) this.label.textContent = name;
    this.tag.hidden = !(follow && current);
    this.button.title = current ? `${current.name} — session ${current.session_id}` : '';
    this.button.dataset.session = current ? current.session_id : '';
    this.button.dataset.follow = String(follow);
  }

  /** Shows the current run's status and details beside the picker. */
  showRun(run) {
    this.current = run || this.current;
    if (!run) {
      this.badge.dataset.status = 'none';
      this.badge.textContent = 'no run';
      this.meta.textContent = 'Waiting for a trainer to start a run…';
      return;
    }
    this.paintButton();
    this.badge.dataset.status = run.status;
    const icon = STATUS_ICON[run.status] || '';
    const text = `${icon ? `${icon} ` : ''}${run.status}`;
    if (this.badge.textContent !== text) this.badge.textContent = text;
    const running = run.status === 'running';
    const parts = [`${run.host || 'localhost'} · pid ${run.pid}`,
      `${running ? 'running for' : 'took'} ${formatElapsed(runDurationMs(run))}`];
    if (run.ranks && run.ranks.length > 1) parts.push(`${run.ranks.length} ranks`);
    const metaText = parts.join(' · ');
    if (this.meta.textContent !== metaText) this.meta.textContent = metaText;
    this.meta.title = `session ${run.session_id}`;
  }

  /** Fetches the latest loss of the runs listed (finished runs once, running ones every 5 s). */
  fetchLosses() {
    const now = Date.now();
    const due = this.visibleRuns().filter((run) => {
      const known = this.losses.get(run.session_id);
      if (known && (known.pending || known.live)) return false;
      if (!known) return true;
      return run.status === 'running' && now - known.at > LOSS_MAX_AGE_MS;
    }).slice(0, 40);
    for (const run of due) {
      const metric = lossMetricOf(run);
      if (!metric) {
        this.losses.set(run.session_id, { point: null, at: now, pending: false });
        continue;
      }
      const previous = this.losses.get(run.session_id);
      this.losses.set(run.session_id, { point: previous ? previous.point : null, at: now, pending: true });
      const rank = run.ranks && run.ranks.length ? Math.min(...run.ranks) : undefined;
      api.getLatestPoint(run.session_id, metric, { rank })
        .then((point) => this.losses.set(run.session_id, { point, at: Date.now(), pending: false }))
        .catch(() => this.losses.set(run.session_id, { point: previous ? previous.point : null, at: Date.now(), pending: false }))
        .finally(() => this.refresh());
    }
  }

  lossText(run) {
    const known = this.losses.get(run.session_id);
    if (!known) return { text: '…', value: '' };
    if (!known.point) return { text: known.pending ? '…' : '—', value: '' };
    const v = known.point[2];
    return { text: formatValue(v, 4), value: v === null ? 'nan' : String(v), nan: v === null };
  }

  /** Builds the list's fixed parts once; rows are then updated in place (clicks never land on a replaced node). */
  skeleton() {
    if (this.parts) return this.parts;
    const head = el('div', 'run-pop-head');
    const title = el('span', 'run-pop-title');
    const tableLink = el('a', 'run-pop-table-link', 'All runs (table)');
    tableLink.href = '#runs';
    tableLink.dataset.testid = 'open-runs-table';
    tableLink.addEventListener('click', () => this.close());
    head.append(title, el('span', 'run-pop-hint', 'Click a run to show it · Compare overlays its train/loss'), tableLink);

    const search = document.createElement('input');
    search.type = 'search';
    search.className = 'run-search';
    search.placeholder = 'Search runs by name or id';
    search.dataset.testid = 'run-search';
    search.setAttribute('aria-label', 'Search runs');
    search.addEventListener('input', () => {
      this.query = search.value;
      this.renderList();
      this.fetchLosses();
      this.searchSoon();
    });

    const follow = el('button', 'run-follow');
    follow.type = 'button';
    follow.dataset.testid = 'run-follow';
    const followMark = el('span', 'run-follow-mark');
    followMark.setAttribute('aria-hidden', 'true');
    follow.append(followMark, el('span', '', 'Follow the newest run'),
      el('span', 'run-follow-hint', 'switches to each new run as it starts'));
    follow.addEventListener('click', () => {
      this.close();
      this.onPick(FOLLOW);
    });

    const table = el('div', 'run-table');
    table.setAttribute('role', 'list');
    const header = el('div', 'run-row run-row-head');
    header.setAttribute('aria-hidden', 'true');
    const headCells = el('div', 'run-cells');
    for (const [cls, text] of [['c-status', 'Status'], ['c-name', 'Name'], ['c-started', 'Started'],
      ['c-duration', 'Duration'], ['c-loss', 'Latest loss']]) headCells.append(el('span', cls, text));
    header.append(headCells, el('span', 'c-compare', 'Compare'));
    const body = el('div', 'run-body');
    const empty = el('div', 'run-empty', 'No runs yet: start a trainer.');
    const more = el('div', 'run-more');
    more.dataset.testid = 'run-more';
    table.append(header, body, empty, more);
    this.popover.replaceChildren(head, search, follow, table);
    this.parts = { title, search, follow, followMark, body, empty, more, rows: new Map() };
    return this.parts;
  }

  makeRow(sessionId) {
    const row = el('div', 'run-row');
    row.setAttribute('role', 'listitem');
    row.dataset.testid = 'run-row';
    row.dataset.session = sessionId;

    const open = el('button', 'run-cells run-open');
    open.type = 'button';
    open.dataset.testid = 'run-open';
    const statusCell = el('span', 'c-status');
    const name = el('span', 'c-name');
    const nameText = el('span', 'run-name');
    const ranks = el('span', 'run-ranks');
    name.append(nameText, ranks);
    const started = el('span', 'c-started');
    const duration = el('span', 'c-duration');
    const loss = el('span', 'c-loss');
    loss.dataset.testid = 'run-loss';
    open.append(statusCell, name, started, duration, loss);
    open.addEventListener('click', () => {
      this.close();
      this.onPick(sessionId);
    });

    const compare = el('label', 'c-compare run-compare');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.dataset.testid = 'run-compare';
    box.addEventListener('change', () => this.options.onCompare && this.options.onCompare(sessionId, box.checked));
    const swatch = el('span', 'run-compare-swatch');
    const compareText = el('span', 'run-compare-text');
    compare.append(box, swatch, compareText);

    const remove = el('button', 'run-delete', 'Delete');
    remove.type = 'button';
    remove.dataset.testid = 'run-delete';
    remove.addEventListener('click', () => this.confirmDelete(sessionId));
    row.append(open, compare, remove);
    return { row, open, statusCell, status: null, nameText, ranks, started, duration, loss, compare, box, swatch, compareText, remove };
  }

  /** The runs the search matches, newest first, at most MAX_ROWS: the agent's answer once it came. */
  visibleRuns() {
    const query = this.query.trim();
    let matching;
    if (!query) matching = this.runs;
    else if (this.found && this.found.query === query) {
      // The page's copy of a run is fresher (live status); the agent found the rest.
      const mine = new Map(this.runs.map((r) => [r.session_id, r]));
      matching = this.found.runs.map((r) => mine.get(r.session_id) || r);
    } else matching = this.runs.filter((r) => runMatches(r, query));
    this.matching = matching.length;
    this.moreMatching = Boolean(query && this.found && this.found.query === query && this.found.more);
    return matching.length > MAX_ROWS ? matching.slice(0, MAX_ROWS) : matching;
  }

  /** Every run the list knows: the page's and the search's. */
  knownRun(sessionId) {
    return this.runs.find((r) => r.session_id === sessionId) ||
      (this.found && this.found.runs.find((r) => r.session_id === sessionId)) || null;
  }

  /** Asks, then deletes an ended run through options.onDelete; says why if that fails. */
  async confirmDelete(sessionId) {
    const run = this.knownRun(sessionId);
    if (!run || !this.options.onDelete) return;
    const points = Number(run.points) || 0;
    const question = `Delete run "${run.name || sessionId}" and its ${points.toLocaleString()} points? This cannot be undone.`;
    if (!window.confirm(question)) return;
    try {
      await this.options.onDelete(run);
    } catch (e) {
      window.alert(`Run "${run.name || sessionId}" was not deleted: ${e.message}`);
    }
  }

  renderList() {
    const o = this.options;
    const now = Date.now();
    const p = this.skeleton();
    const shown = this.visibleRuns();
    const total = Math.max(this.total || 0, this.runs.length);
    setText(p.title, this.query.trim() ? `Runs (${this.matching}${this.moreMatching ? '+' : ''} of ${total})` : `Runs (${total})`);
    const hidden = (this.query.trim() ? this.matching : total) - shown.length;
    setText(p.more, hidden > 0 || this.moreMatching
      ? `${hidden > 0 ? hidden.toLocaleString() : 'More'} more: type in the search box to narrow the list, or open All runs`
      : '');
    p.more.hidden = !(hidden > 0 || this.moreMatching);
    const following = this.chosen === FOLLOW;
    p.follow.setAttribute('aria-pressed', String(following));
    setText(p.followMark, following ? '✓' : '');
    p.empty.hidden = shown.length > 0;
    setText(p.empty, total ? 'No run matches the search.' : 'No runs yet: start a trainer.');

    const shownId = this.current ? this.current.session_id : null;
    const comparedCount = this.runs.filter((r) => o.isCompared && o.isCompared(r.session_id)).length;
    const seen = new Set();
    shown.forEach((run, index) => {
      const id = run.session_id;
      seen.add(id);
      let r = p.rows.get(id);
      if (!r) {
        r = this.makeRow(id);
        p.rows.set(id, r);
      }
      if (p.body.children[index] !== r.row) p.body.insertBefore(r.row, p.body.children[index] || null);
      r.row.dataset.status = run.status;
      const isShown = id === shownId;
      if (isShown) r.row.setAttribute('aria-current', 'true');
      else r.row.removeAttribute('aria-current');
      if (r.status !== run.status) {
        r.status = run.status;
        r.statusCell.replaceChildren(statusBadge(run.status));
      }
      r.open.title = `Show ${run.name} (session ${id})`;
      setText(r.nameText, run.name || id);
      setText(r.ranks, run.ranks && run.ranks.length > 1 ? `${run.ranks.length} ranks` : '');
      r.ranks.hidden = !(run.ranks && run.ranks.length > 1);
      setText(r.started, startedText(run.started_ms));
      setText(r.duration, formatElapsed(runDurationMs(run, now)));
      const loss = this.lossText(run);
      setText(r.loss, loss.text);
      r.loss.dataset.value = loss.value;
      r.loss.dataset.nan = String(Boolean(loss.nan));

      const compared = Boolean(o.isCompared && o.isCompared(id));
      r.box.checked = compared;
      r.box.disabled = isShown || (!compared && comparedCount >= (o.maxCompared || Infinity));
      r.box.setAttribute('aria-label', `Compare ${run.name}`);
      const color = compared && o.compareColor ? o.compareColor(id) : null;
      r.swatch.style.background = color || '';
      r.swatch.dataset.on = String(compared);
      setText(r.compareText, isShown ? 'shown' : 'Compare');
      explain(r.compare, isShown ? 'This run is the one shown' : r.box.disabled ? `At most ${o.maxCompared} runs at once` : '');
      r.compare.dataset.disabled = String(r.box.disabled);
      // A live run cannot be deleted (the agent would refuse it): no button to press.
      r.remove.hidden = run.status === 'running' || !o.onDelete;
      r.remove.setAttribute('aria-label', `Delete ${run.name}`);
    });
    for (const [id, r] of p.rows) {
      if (!seen.has(id)) {
        r.row.remove();
        p.rows.delete(id);
      }
    }
  }
}
