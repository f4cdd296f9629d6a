// The runs table: a view of its own (#runs; the run picker links to it) listing every run with
// status, name, timing, host, ranks, points, the latest and best of chosen metrics and one
// column per config key. Sort by any column, filter by text and status, choose the columns
// (kept in localStorage), select runs to overlay on the chart and see which config keys differ
// between them, rename a run and give it notes and tags (stored by the agent), delete an
// ended one. Only the rows in sight are built, so thousands of runs stay quick; the table
// scrolls inside its frame, never the page.
import * as api from './api.js';
import {
  cellText, cellValue, columnsOf, configDifferences, configText, runMatchesFilter, sortRuns,
} from './runs_table_model.js';

export const VIEW_HASH = '#runs';
const STORAGE_KEY = 'trainscope.runsTable';
// px, fixed (CSS --runs-row-h): rows are placed by arithmetic. A finger needs 44.
const ROW_HEIGHT = window.matchMedia && window.matchMedia('(pointer: coarse)').matches ? 44 : 34;
const OVERSCAN = 8;
const STATUSES = ['running', 'finished', 'failed', 'crashed'];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, testid, className = 'button') {
  const b = el('button', className, text);
  b.type = 'button';
  if (testid) b.dataset.testid = testid;
  return b;
}

function loadSettings() {
  try {
    const s = JSON.parse(localStorage.getItem(STORAGE_KEY) || '{}');
    return {
      hidden: Array.isArray(s.hidden) ? s.hidden : ['notes'],
      metrics: Array.isArray(s.metrics) && s.metrics.length ? s.metrics : ['val/loss'],
      sort: s.sort && typeof s.sort.key === 'string' ? s.sort : { key: 'started', dir: -1 },
    };
  } catch {
    return { hidden: ['notes'], metrics: ['val/loss'], sort: { key: 'started', dir: -1 } };
  }
}

/** Tags as typed: separated by spaces or commas. */
export function parseTags(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

export class RunsTable {
  /**
   * @param root     element the view is built in (hidden while the chart is shown)
   * @param app      the page's root: its data-view says which view is on
   * @param options  {onOverlay(ids) (the first is shown, the rest overlaid), maxOverlay,
   *                  onDeleted(sessionId), onEdited(run)}
   */
  constructor(root, app, options = {}) {
    this.root = root;
    this.app = app;
    this.options = options;
    this.settings = loadSettings();
    this.table = { runs: [], metrics: [], metric_names: [] };
    this.shown = [];  // filtered and sorted
    this.selected = new Set();
    this.editing = null;
    this.loading = null;
    this.stale = true;
    this.build();
    window.addEventListener('hashchange', () => this.route());
    this.route();
  }

  get open() {
    return this.app.dataset.view === 'runs';
  }

  /** Shows the view when the address says #runs, the chart otherwise. */
  route() {
    const on = window.location.hash === VIEW_HASH;
    this.app.dataset.view = on ? 'runs' : 'chart';
    this.root.hidden = !on;
    if (on && this.stale) this.load();
    if (on) this.render();
  }

  /** A run started, ended, changed or went away: fetch again (soon, once, if the view is open). */
  noteRunEvent() {
    this.stale = true;
    if (!this.open) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(), 1000);
  }

  /** The name of a run the table knows (for overlays of runs older than the picker's list). */
  nameOf(sessionId) {
    const run = this.table.runs.find((r) => r.session_id === sessionId);
    return run ? run.name : null;
  }

  saveSettings() {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this.settings));
    } catch {
      // Private mode or full storage: the choice holds for this page only.
    }
  }

  async load() {
    this.stale = false;
    const generation = (this.generation || 0) + 1;
    this.generation = generation;
    this.root.dataset.loading = 'true';
    try {
      const table = await api.getRunsTable({ metrics: this.settings.metrics });
      if (generation !== this.generation) return;
      this.table = table;
      const known = new Set(table.runs.map((r) => r.session_id));
      for (const id of [...this.selected]) if (!known.has(id)) this.selected.delete(id);
      this.parts.error.hidden = true;
    } catch (e) {
      if (generation !== this.generation) return;
      this.parts.error.textContent = `Cannot load the runs: ${e.message}`;
      this.parts.error.hidden = false;
    }
    this.root.dataset.loading = 'false';
    this.root.dataset.loaded = String(generation);
    this.render();
  }

  build() {
    const p = {};
    this.root.classList.add('runs-view');
    this.root.style.setProperty('--runs-row-h', `${ROW_HEIGHT}px`);
    this.root.dataset.testid = 'runs-view';
    this.root.setAttribute('aria-label', 'Runs table');

    const bar = el('div', 'runs-toolbar');
    const back = el('a', 'button', '← Chart');
    back.href = '#';
    back.dataset.testid = 'runs-back';
    p.title = el('h2', 'runs-title', 'Runs');
    p.count = el('span', 'runs-count');
    p.count.dataset.testid = 'runs-count';
    p.filter = document.createElement('input');
    p.filter.type = 'search';
    p.filter.className = 'runs-filter';
    p.filter.placeholder = 'Filter by name, notes, tags, host';
    p.filter.dataset.testid = 'runs-filter';
    p.filter.setAttribute('aria-label', 'Filter runs');
    p.filter.addEventListener('input', () => this.render());
    p.status = document.createElement('select');
    p.status.dataset.testid = 'runs-status';
    p.status.setAttribute('aria-label', 'Status');
    p.status.append(new Option('any status', ''));
    for (const s of STATUSES) p.status.append(new Option(s, s));
    p.status.addEventListener('change', () => this.render());
    p.columnsToggle = button('Columns', 'runs-columns-toggle');
    p.columnsToggle.setAttribute('aria-expanded', 'false');
    p.columnsToggle.addEventListener('click', () => {
      p.chooser.hidden = !p.chooser.hidden;
      p.columnsToggle.setAttribute('aria-expanded', String(!p.chooser.hidden));
      this.renderChooser();
    });
    p.overlay = button('Overlay on chart', 'runs-overlay');
    p.overlay.addEventListener('click', () => {
      const ids = [...this.selected];
      if (ids.length && this.options.onOverlay) this.options.onOverlay(ids);
    });
    p.clear = button('Clear selection', 'runs-clear');
    p.clear.addEventListener('click', () => {
      this.selected.clear();
      this.render();
    });
    bar.append(back, p.title, p.count, p.filter, p.status, p.columnsToggle, p.overlay, p.clear);

    p.chooser = el('div', 'runs-chooser');
    p.chooser.dataset.testid = 'runs-columns';
    p.chooser.hidden = true;

    p.error = el('p', 'runs-error');
    p.error.setAttribute('role', 'alert');
    p.error.hidden = true;

    p.diff = el('section', 'runs-diff');
    p.diff.dataset.testid = 'runs-diff';
    p.diff.hidden = true;

    p.editor = this.buildEditor();

    p.frame = el('div', 'runs-frame');
    p.frame.dataset.testid = 'runs-frame';
    p.frame.tabIndex = 0;
    p.frame.setAttribute('aria-label', 'Runs (scrolls both ways)');
    const grid = el('table', 'runs-grid');
    p.head = el('thead');
    p.body = el('tbody');
    grid.append(p.head, p.body);
    p.frame.append(grid);
    p.frame.addEventListener('scroll', () => {
      if (!this.scrollFrame) this.scrollFrame = requestAnimationFrame(() => {
        this.scrollFrame = null;
        this.renderRows();
      });
    }, { passive: true });
    p.head.addEventListener('click', (e) => {
      const th = e.target.closest('[data-column]');
      if (!th) return;
      const key = th.dataset.column;
      const sort = this.settings.sort;
      this.settings.sort = { key, dir: sort.key === key ? -sort.dir : (key === 'started' ? -1 : 1) };
      this.saveSettings();
      this.render();
    });
    p.body.addEventListener('click', (e) => this.onRowClick(e));
    p.body.addEventListener('change', (e) => {
      const box = e.target.closest('[data-testid=runs-select]');
      if (!box) return;
      const id = box.closest('tr').dataset.session;
      if (box.checked) this.selected.add(id);
      else this.selected.delete(id);
      this.render();
    });

    this.root.replaceChildren(bar, p.chooser, p.error, p.editor.root, p.diff, p.frame);
    this.parts = p;
  }

  buildEditor() {
    const root = el('form', 'runs-editor');
    root.dataset.testid = 'runs-editor';
    root.hidden = true;
    const heading = el('h3', 'runs-editor-title');
    const field = (label, control) => {
      const l = el('label', 'runs-field');
      l.append(el('span', '', label), control);
      return l;
    };
    const name = document.createElement('input');
    name.dataset.testid = 'runs-edit-name';
    name.maxLength = 200;
    const notes = document.createElement('textarea');
    notes.dataset.testid = 'runs-edit-notes';
    notes.rows = 3;
    const tags = document.createElement('input');
    tags.dataset.testid = 'runs-edit-tags';
    tags.placeholder = 'tags, separated by spaces';
    const error = el('p', 'runs-error');
    error.dataset.testid = 'runs-edit-error';
    error.hidden = true;
    const save = button('Save', 'runs-edit-save');
    save.type = 'submit';
    const cancel = button('Cancel', 'runs-edit-cancel');
    cancel.addEventListener('click', () => this.closeEditor());
    const actions = el('div', 'runs-editor-actions');
    actions.append(save, cancel);
    root.append(heading, field('Name', name), field('Notes', notes), field('Tags', tags), error, actions);
    root.addEventListener('submit', (e) => {
      e.preventDefault();
      this.saveEdit();
    });
    return { root, heading, name, notes, tags, error, save };
  }

  openEditor(run) {
    const ed = this.parts.editor;
    this.editing = run.session_id;
    ed.heading.textContent = run.original_name && run.original_name !== run.name
      ? `Edit run "${run.name}" (the trainer named it "${run.original_name}")` : `Edit run "${run.name}"`;
    ed.name.value = run.name;
    ed.name.placeholder = run.original_name || '';
    ed.notes.value = run.notes || '';
    ed.tags.value = (run.tags || []).join(' ');
    ed.error.hidden = true;
    ed.root.hidden = false;
    ed.name.focus();
  }

  closeEditor() {
    this.editing = null;
    this.parts.editor.root.hidden = true;
  }

  async saveEdit() {
    const ed = this.parts.editor;
    const id = this.editing;
    if (!id) return;
    ed.save.disabled = true;
    try {
      const run = await api.editRun(id, { name: ed.name.value, notes: ed.notes.value, tags: parseTags(ed.tags.value) });
      this.applyRun(run);
      if (this.options.onEdited) this.options.onEdited(run);
      this.closeEditor();
    } catch (e) {
      ed.error.textContent = `Not saved: ${e.message}`;
      ed.error.hidden = false;
    } finally {
      ed.save.disabled = false;
    }
  }

  /** A run object from the agent (an edit's answer, run_updated): its name, notes and tags. */
  applyRun(run) {
    if (!run) return;
    const row = this.table.runs.find((r) => r.session_id === run.session_id);
    if (!row) return;
    for (const key of ['name', 'original_name', 'notes', 'tags', 'status']) if (run[key] !== undefined) row[key] = run[key];
    this.render();
  }

  onRowClick(e) {
    const target = e.target.closest('[data-action]');
    if (!target) return;
    const id = target.closest('tr').dataset.session;
    const run = this.table.runs.find((r) => r.session_id === id);
    if (!run) return;
    if (target.dataset.action === 'edit') this.openEditor(run);
    else if (target.dataset.action === 'delete') this.confirmDelete(run);
    else if (target.dataset.action === 'show' && this.options.onOverlay) this.options.onOverlay([id]);
  }

  async confirmDelete(run) {
    const question = `Delete run "${run.name || run.session_id}" and its ${Number(run.points || 0).toLocaleString()} points? This cannot be undone.`;
    if (!window.confirm(question)) return;
    try {
      await api.deleteRun(run.session_id);
      this.table.runs = this.table.runs.filter((r) => r.session_id !== run.session_id);
      this.selected.delete(run.session_id);
      if (this.options.onDeleted) this.options.onDeleted(run.session_id);
      this.render();
    } catch (e) {
      window.alert(`Run "${run.name || run.session_id}" was not deleted: ${e.message}`);
    }
  }

  forget(sessionId) {
    const before = this.table.runs.length;
    this.table.runs = this.table.runs.filter((r) => r.session_id !== sessionId);
    this.selected.delete(sessionId);
    if (before !== this.table.runs.length) this.render();
  }

  visibleColumns() {
    const hidden = new Set(this.settings.hidden);
    return columnsOf(this.table).filter((c) => c.key === 'name' || !hidden.has(c.key));
  }

  renderChooser() {
    const p = this.parts;
    if (p.chooser.hidden) return;
    const hidden = new Set(this.settings.hidden);
    const metricsBox = el('fieldset', 'runs-choose-metrics');
    metricsBox.append(el('legend', '', 'Metrics (latest and best)'));
    const names = new Set([...(this.table.metric_names || []), ...this.settings.metrics]);
    for (const name of [...names].sort()) {
      const label = el('label', 'runs-choice');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.dataset.testid = 'runs-metric-choice';
      box.dataset.metric = name;
      box.checked = this.settings.metrics.includes(name);
      box.addEventListener('change', () => {
        const chosen = new Set(this.settings.metrics);
        if (box.checked) chosen.add(name);
        else chosen.delete(name);
        this.settings.metrics = [...chosen].slice(0, 8);
        this.saveSettings();
        this.load();
      });
      label.append(box, el('span', '', name));
      metricsBox.append(label);
    }
    const columnsBox = el('fieldset', 'runs-choose-columns');
    columnsBox.append(el('legend', '', 'Columns'));
    for (const c of columnsOf(this.table)) {
      if (c.key === 'name') continue;
      const label = el('label', 'runs-choice');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.dataset.testid = 'runs-column-choice';
      box.dataset.column = c.key;
      box.checked = !hidden.has(c.key);
      box.addEventListener('change', () => {
        const set = new Set(this.settings.hidden);
        if (box.checked) set.delete(c.key);
        else set.add(c.key);
        this.settings.hidden = [...set];
        this.saveSettings();
        this.render();
      });
      label.append(box, el('span', '', c.kind === 'config' ? `config ${c.label}` : c.label));
      columnsBox.append(label);
    }
    p.chooser.replaceChildren(metricsBox, columnsBox);
  }

  /** Filters, sorts and repaints everything but the chooser. */
  render() {
    if (!this.open) return;
    const p = this.parts;
    const now = Date.now();
    const { key, dir } = this.settings.sort;
    const matching = this.table.runs.filter((r) => runMatchesFilter(r, p.filter.value, p.status.value));
    this.shown = sortRuns(matching, key, dir, now);
    const total = this.table.runs.length;
    const runs = total === 1 ? 'run' : 'runs';
    p.count.textContent = matching.length === total ? `${total.toLocaleString()} ${runs}${this.table.more ? ' (the newest)' : ''}`
      : `${matching.length.toLocaleString()} of ${total.toLocaleString()} ${runs}`;
    p.overlay.disabled = this.selected.size === 0;
    p.overlay.textContent = this.selected.size > 1 ? `Overlay ${this.selected.size} on chart` : 'Overlay on chart';
    p.clear.hidden = this.selected.size === 0;

    this.columns = this.visibleColumns();
    const headRow = el('tr');
    headRow.append(el('th', 'runs-c-select', ''));
    for (const c of this.columns) {
      const th = el('th', `runs-c-${c.kind}`);
      th.dataset.column = c.key;
      th.dataset.testid = 'runs-sort';
      th.title = `Sort by ${c.label}`;
      const sorted = c.key === key;
      th.setAttribute('aria-sort', sorted ? (dir > 0 ? 'ascending' : 'descending') : 'none');
      th.textContent = `${c.label}${sorted ? (dir > 0 ? ' ▲' : ' ▼') : ''}`;
      headRow.append(th);
    }
    headRow.append(el('th', 'runs-c-actions', ''));
    p.head.replaceChildren(headRow);
    this.renderRows();
    this.renderDiff();
    this.renderChooser();
  }

  /** Builds the rows in sight (and a few more), with spacers standing in for the rest. */
  renderRows() {
    const p = this.parts;
    const frameHeight = p.frame.clientHeight || 600;
    const headHeight = p.head.offsetHeight || ROW_HEIGHT;
    const first = Math.max(0, Math.floor((p.frame.scrollTop - headHeight) / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.shown.length, Math.ceil((p.frame.scrollTop + frameHeight) / ROW_HEIGHT) + OVERSCAN);
    const span = this.columns.length + 2;
    const spacer = (rows) => {
      const tr = el('tr', 'runs-spacer');
      const td = el('td');
      td.colSpan = span;
      td.style.height = `${rows * ROW_HEIGHT}px`;
      tr.append(td);
      return tr;
    };
    const rows = [];
    if (first > 0) rows.push(spacer(first));
    const now = Date.now();
    for (let i = first; i < last; i += 1) rows.push(this.row(this.shown[i], now));
    if (last < this.shown.length) rows.push(spacer(this.shown.length - last));
    if (!this.shown.length) {
      const tr = el('tr', 'runs-empty');
      const td = el('td', '', this.table.runs.length ? 'No run matches the filter.' : 'No runs yet.');
      td.colSpan = span;
      tr.append(td);
      rows.push(tr);
    }
    p.body.replaceChildren(...rows);
  }

  row(run, now) {
    const tr = el('tr', 'runs-row');
    tr.dataset.testid = 'runs-row';
    tr.dataset.session = run.session_id;
    tr.dataset.status = run.status;
    const selected = this.selected.has(run.session_id);
    if (selected) tr.setAttribute('aria-selected', 'true');
    const pick = el('td', 'runs-c-select');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.dataset.testid = 'runs-select';
    box.checked = selected;
    box.setAttribute('aria-label', `Select ${run.name}`);
    pick.append(box);
    tr.append(pick);
    for (const c of this.columns) {
      const td = el('td', `runs-c-${c.kind}`);
      td.dataset.column = c.key;
      if (c.key === 'status') {
        const badge = el('span', 'status-badge', run.status);
        badge.dataset.status = run.status;
        td.append(badge);
      } else if (c.key === 'name') {
        const name = el('span', 'runs-name', run.name || run.session_id);
        name.dataset.testid = 'runs-name';
        td.append(name);
        if (run.original_name && run.original_name !== run.name) {
          const original = el('span', 'runs-original', run.original_name);
          original.title = 'the name the trainer gave';
          td.append(original);
        }
        td.title = `${run.name} — session ${run.session_id}`;
      } else if (c.key === 'tags') {
        for (const t of run.tags || []) td.append(el('span', 'runs-tag', t));
      } else {
        const text = cellText(run, c.key, now);
        td.textContent = text;
        if (text.length > 24) td.title = text;
        const v = cellValue(run, c.key, now);
        if (typeof v === 'number') td.dataset.value = String(v);
      }
      tr.append(td);
    }
    const cell = el('td', 'runs-c-actions');
    const actions = el('span', 'runs-actions');
    cell.append(actions);
    const show = button('Show', 'runs-show', 'link-button');
    show.dataset.action = 'show';
    const edit = button('Edit', 'runs-edit', 'link-button');
    edit.dataset.action = 'edit';
    edit.setAttribute('aria-label', `Edit ${run.name}`);
    actions.append(show, edit);
    if (run.status !== 'running') {
      const del = button('Delete', 'runs-delete', 'link-button');
      del.dataset.action = 'delete';
      del.setAttribute('aria-label', `Delete ${run.name}`);
      actions.append(del);
    }
    tr.append(cell);
    return tr;
  }

  /** With two or more runs selected: the config keys whose values differ, the rest folded. */
  renderDiff() {
    const p = this.parts;
    const runs = [...this.selected].map((id) => this.table.runs.find((r) => r.session_id === id)).filter(Boolean);
    p.diff.hidden = runs.length < 2;
    if (runs.length < 2) {
      p.diff.replaceChildren();
      return;
    }
    const { differ, same } = configDifferences(runs);
    const title = el('h3', 'runs-diff-title',
      differ.length ? `${differ.length} config key${differ.length === 1 ? '' : 's'} differ between the ${runs.length} selected runs`
        : `The ${runs.length} selected runs have the same config`);
    const frame = el('div', 'runs-diff-frame');
    const table = el('table', 'runs-diff-table');
    const head = el('tr');
    head.append(el('th', '', 'key'));
    for (const r of runs) head.append(el('th', '', r.name));
    table.append(head);
    for (const key of differ) {
      const tr = el('tr');
      tr.dataset.testid = 'runs-diff-key';
      tr.dataset.key = key;
      tr.append(el('th', '', key));
      for (const r of runs) tr.append(el('td', '', (r.config || {})[key] === undefined ? '—' : configText(r.config[key])));
      table.append(tr);
    }
    frame.append(table);
    const folded = el('details', 'runs-diff-same');
    folded.dataset.testid = 'runs-diff-same';
    folded.append(el('summary', '', `${same.length} key${same.length === 1 ? '' : 's'} the same`));
    const list = el('ul');
    for (const key of same) list.append(el('li', '', `${key} = ${configText(runs[0].config[key])}`));
    folded.append(list);
    p.diff.replaceChildren(title, frame, folded);
  }
}
