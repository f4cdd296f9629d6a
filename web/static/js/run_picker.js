// The run selector in the header: every run with its name and status, newest first, plus
// "follow newest" (the default), which switches to each new run as it starts.
import { formatElapsed } from './format.js';

export const FOLLOW = '';

function startedText(run) {
  const d = new Date(run.started_ms);
  const now = new Date();
  const time = d.toTimeString().slice(0, 5);
  return d.toDateString() === now.toDateString() ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}

export class RunPicker {
  /**
   * @param select   the <select>
   * @param badge    the status badge element
   * @param meta     element for host/pid/duration text
   * @param onPick   (sessionId or FOLLOW) -> void
   */
  constructor(select, badge, meta, onPick) {
    this.select = select;
    this.badge = badge;
    this.meta = meta;
    this.runs = [];
    select.addEventListener('change', () => onPick(select.value));
  }

  /** Replaces the list (runs newest first). `chosen` is the selected value. */
  setRuns(runs, chosen, current) {
    this.runs = runs;
    const options = [];
    const follow = document.createElement('option');
    follow.value = FOLLOW;
    follow.textContent = current && chosen === FOLLOW ? `Newest run — ${current.name}` : 'Newest run (follow)';
    options.push(follow);
    for (const run of runs) {
      const o = document.createElement('option');
      o.value = run.session_id;
      o.textContent = `${run.name} · ${run.status} · ${startedText(run)}`;
      o.dataset.status = run.status;
      options.push(o);
    }
    const same = this.select.options.length === options.length &&
      options.every((o, i) => this.select.options[i].value === o.value && this.select.options[i].textContent === o.textContent);
    if (!same) this.select.replaceChildren(...options);
    this.select.value = chosen;
    this.showRun(current);
  }

  /** Shows the current run's status and details beside the selector. */
  showRun(run) {
    if (!run) {
      this.badge.dataset.status = 'none';
      this.badge.textContent = 'no run';
      this.meta.textContent = 'Waiting for a trainer to start a run…';
      return;
    }
    this.badge.dataset.status = run.status;
    this.badge.textContent = run.status;
    const running = run.status === 'running';
    const duration = running ? Date.now() - run.started_ms : run.duration_ms;
    const parts = [`${run.host || 'localhost'} · pid ${run.pid}`,
      `${running ? 'running for' : 'took'} ${formatElapsed(duration)}`];
    if (run.ranks && run.ranks.length > 1) parts.push(`${run.ranks.length} ranks`);
    this.meta.textContent = parts.join(' · ');
    this.meta.title = `session ${run.session_id}`;
  }
}
