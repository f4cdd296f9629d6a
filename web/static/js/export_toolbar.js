// The chart toolbar's "Export CSV" and "Export PNG" buttons: available when there is
// something to export (otherwise a tap or hover says why not), and what a click does
// (export_files.js, export_chart.js).
import { chartPng } from './export_chart.js';
import { downloadBlob, exportFileName, exportRunCsv, initExportNotice, showExportNotice } from './export_files.js';
import { isAvailable, setUnavailable } from './tap_detail.js';

export class ExportToolbar {
  /**
   * @param buttons  {csv, png}: the <button>s
   * @param source   {run(): the run shown or null, series(): its Series (every metric and
   *                  rank the page holds), chart(): the Chart.js chart or null (none
   *                  drawn yet), chartAvailable(): whether the page has a chart at all}
   */
  constructor({ csv, png }, source) {
    this.csv = csv;
    this.png = png;
    this.source = source;
    this.busy = false;
    /** What the latest export did (tests read it through window.trainscope.exports). */
    this.last = null;
    initExportNotice();
    csv.addEventListener('click', () => this.exportCsv());
    png.addEventListener('click', () => this.exportPng());
    this.update();
  }

  /** Enables or disables the buttons for the current run and data; cheap, call it often. */
  update() {
    const run = this.source.run();
    const held = run ? this.source.series().reduce((n, s) => n + s.points.length, 0) : 0;
    const stored = run ? Number(run.points) || 0 : 0;
    const csvWhy = !run ? 'No run shown' : held === 0 && stored === 0 ? 'This run has no points yet' : '';
    const chart = this.source.chart();
    const drawn = chart && chart.data.datasets.some((d) => !d.hidden && d.data.length > 0);
    const pngWhy = !this.source.chartAvailable() ? 'The chart is not available' : !run ? 'No run shown' : !drawn ? 'The chart shows no data' : '';
    this.paint(this.csv, csvWhy, 'Download every point of the run as CSV');
    this.paint(this.png, pngWhy, 'Download the chart as it is shown, as PNG on white');
  }

  paint(button, why, title) {
    const reason = why ? `${why}: nothing to export` : this.busy ? 'An export is running' : '';
    setUnavailable(button, reason, title);
  }

  async exportCsv() {
    const run = this.source.run();
    if (!run || this.busy || !isAvailable(this.csv)) return;
    this.busy = true;
    this.update();
    try {
      this.last = { kind: 'csv', ...(await exportRunCsv(run, this.source.series())) };
    } finally {
      this.busy = false;
      this.update();
    }
  }

  async exportPng() {
    const run = this.source.run();
    const chart = this.source.chart();
    if (!run || !chart || !isAvailable(this.png)) return;
    const date = new Date();
    try {
      const { blob, header, legend, xTitle, headerHeight, width, height } = await chartPng(chart, run, { exportedAt: date });
      const fileName = exportFileName(run.name, 'png', { suffix: 'loss', date });
      downloadBlob(blob, fileName);
      this.last = { kind: 'png', fileName, header, legend, xTitle, headerHeight, width, height };
    } catch (e) {
      showExportNotice(`PNG export failed: ${e.message}`, 'error');
    }
  }
}
