// The System panel under the loss chart: the system plugin's series of the shown run
// (system/cpu_percent, system/rss_bytes, system/host_*, system/gpu<i>/*) as small live charts,
// with each chart's latest value as text. The series come through the same store as every
// metric (REST snapshot + WebSocket); whether the host has a GPU comes from the plugin's
// statistics (gpu_found). Their step is seconds since the trainer started, so the x axis is
// labelled in seconds.
//
// Shown only while the run has system series or system statistics: a run over before the
// first two samples has neither, and an agent without the plugin never sends them.
import { formatValue } from './format.js';

/** Series of the system plugin: kept out of the loss chart's default choice. */
export function isSystemMetric(metric) {
  return typeof metric === 'string' && metric.startsWith('system/');
}

const GIB = 1024 ** 3;
function formatBytes(v) {
  if (!Number.isFinite(v)) return '—';
  return v >= GIB ? `${(v / GIB).toFixed(1)} GiB` : `${(v / (1024 * 1024)).toFixed(0)} MiB`;
}
const percent = (v) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} %` : '—');
const celsius = (v) => (Number.isFinite(v) ? `${v.toFixed(0)} °C` : '—');
const watts = (v) => (Number.isFinite(v) ? `${formatValue(v, 4)} W` : '—');

/** The charts of the trainer and the host: one series each. */
const HOST_CHARTS = [
  { id: 'cpu', title: 'Trainer CPU', metric: 'system/cpu_percent', format: percent },
  { id: 'rss', title: 'Trainer memory (RSS)', metric: 'system/rss_bytes', format: formatBytes, bytes: true },
  { id: 'host_cpu', title: 'Host CPU', metric: 'system/host_cpu_percent', format: percent, percent: true },
  { id: 'host_mem', title: 'Host memory', metric: 'system/host_mem_percent', format: percent, percent: true },
];

/** The GPU charts: one line per GPU. */
const GPU_CHARTS = [
  { id: 'gpu_util', title: 'GPU utilisation', name: 'util_percent', format: percent, percent: true },
  { id: 'gpu_mem', title: 'GPU memory used', name: 'mem_used_bytes', format: formatBytes, bytes: true },
  { id: 'gpu_temp', title: 'GPU temperature', name: 'temperature_c', format: celsius },
  { id: 'gpu_power', title: 'GPU power', name: 'power_w', format: watts },
];

const GPU_COLORS = ['#5b9cff', '#f5b94d', '#3ecf8e', '#ff6b6b', '#b48cff', '#4dd0e1', '#ff9f43', '#c3e88d'];

/** GPU indices that have series in the store ("system/gpu3/util_percent" -> 3), sorted. */
function gpuIndices(store) {
  const found = new Set();
  for (const s of store.list()) {
    const m = /^system\/gpu(\d+)\//.exec(s.metric);
    if (m && s.rank === 0) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

class SmallChart {
  constructor(parent, spec, Chart) {
    this.spec = spec;
    this.root = document.createElement('figure');
    this.root.className = 'system-chart';
    this.root.dataset.testid = 'system-chart';
    this.root.dataset.chart = spec.id;
    const caption = document.createElement('figcaption');
    const title = document.createElement('span');
    title.className = 'system-chart-title';
    title.textContent = spec.title;
    this.value = document.createElement('span');
    this.value.className = 'system-chart-value';
    this.value.dataset.testid = `system-value-${spec.id}`;
    this.value.textContent = '…';
    caption.append(title, this.value);
    const box = document.createElement('div');
    box.className = 'system-chart-box';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `${spec.title} by seconds since the trainer started`);
    box.append(this.canvas);
    this.root.append(caption, box);
    parent.append(this.root);
    this.signature = '';
    this.chart = Chart ? new Chart(this.canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        events: [],  // nothing to hover: the latest values are written out above the chart
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        elements: { point: { radius: 0 }, line: { borderWidth: 1.5, tension: 0 } },
        scales: {
          x: {
            type: 'linear',
            ticks: { maxTicksLimit: 4, color: '#64707f', font: { size: 10 }, callback: (v) => `${v}s` },
            grid: { color: 'rgba(255,255,255,0.06)' },
          },
          y: {
            beginAtZero: true,
            suggestedMax: spec.percent ? 100 : undefined,
            ticks: {
              maxTicksLimit: 3,
              color: '#64707f',
              font: { size: 10 },
              callback: (v) => (spec.bytes ? formatBytes(v) : formatValue(v, 3)),
            },
            grid: { color: 'rgba(255,255,255,0.06)' },
          },
        },
      },
    }) : null;
  }

  /** lines: [{label, color, series}] (series may be null). */
  update(lines) {
    const latest = lines.map((l) => (l.series ? l.series.latest() : null));
    const text = lines.length === 1
      ? this.spec.format(latest[0] ? latest[0].y : NaN)
      : lines.map((l, i) => `${l.label} ${this.spec.format(latest[i] ? latest[i].y : NaN)}`).join(' · ');
    if (this.value.textContent !== text) this.value.textContent = text;
    this.value.dataset.values = JSON.stringify(latest.map((p) => (p ? p.y : null)));
    if (!this.chart) return;
    const signature = lines.map((l, i) => `${l.label}:${l.series ? l.series.points.length : 0}:${latest[i] ? latest[i].x : ''}`).join('|');
    if (signature === this.signature) return;
    this.signature = signature;
    this.chart.data.datasets = lines.map((l) => ({
      label: l.label,
      data: l.series ? l.series.points : [],
      borderColor: l.color,
      backgroundColor: l.color,
    }));
    this.chart.update('none');
  }

  destroy() {
    if (this.chart) this.chart.destroy();
    this.root.remove();
  }
}

export class SystemPanel {
  /**
   * @param root  the <section> (dashboard.html's #system-panel)
   * @param Chart Chart.js, or null (then only the latest values are shown)
   */
  constructor(root, Chart) {
    this.root = root;
    this.Chart = Chart;
    this.body = root.querySelector('[data-role="body"]');
    this.hostGrid = document.createElement('div');
    this.hostGrid.className = 'system-grid';
    this.gpuGrid = document.createElement('div');
    this.gpuGrid.className = 'system-grid';
    this.gpuNote = document.createElement('p');
    this.gpuNote.className = 'system-gpu-note';
    this.gpuNote.dataset.testid = 'system-gpu-note';
    this.gpuNote.hidden = true;
    this.body.append(this.hostGrid, this.gpuNote, this.gpuGrid);
    // Made when first shown: four Chart.js charts cost the page's start more than the loss
    // chart itself, and most runs never have system series.
    this.hostCharts = null;
    this.gpuCharts = null;
    this.gpuKey = '';
    this.sessionId = null;
  }

  /**
   * @param run    the run shown (or null)
   * @param store  its SeriesStore
   * @param stats  the system plugin's statistics for it (or null)
   */
  update(run, store, stats) {
    const sessionId = run ? run.session_id : null;
    if (sessionId !== this.sessionId) {
      this.sessionId = sessionId;
      this.dropGpuCharts();
    }
    const has = (metric) => store.get(metric, 0) !== null;
    const anySeries = run && store.list().some((s) => isSystemMetric(s.metric));
    const show = Boolean(run && (anySeries || stats));
    if (this.root.hidden === show) this.root.hidden = !show;
    this.root.dataset.state = !show ? 'none' : anySeries ? 'live' : 'waiting';
    if (!show) return;

    if (!this.hostCharts) this.hostCharts = HOST_CHARTS.map((spec) => new SmallChart(this.hostGrid, spec, this.Chart));
    for (const chart of this.hostCharts) {
      chart.root.hidden = !has(chart.spec.metric);
      chart.update([{ label: chart.spec.title, color: '#5b9cff', series: store.get(chart.spec.metric, 0) }]);
    }

    const gpus = gpuIndices(store);
    const noGpu = stats && stats.gpu_found === false;
    const note = noGpu ? 'no GPU found' : gpus.length ? '' : stats && stats.gpu_found ? 'Waiting for GPU samples…' : '';
    this.gpuNote.hidden = !note;
    if (this.gpuNote.textContent !== note) this.gpuNote.textContent = note;
    this.root.dataset.gpu = noGpu ? 'none' : gpus.length ? 'found' : 'unknown';

    const key = gpus.join(',');
    if (key !== this.gpuKey) {
      this.dropGpuCharts();
      this.gpuKey = key;
      if (gpus.length) this.gpuCharts = GPU_CHARTS.map((spec) => new SmallChart(this.gpuGrid, spec, this.Chart));
    }
    if (!this.gpuCharts) return;
    for (const chart of this.gpuCharts) {
      chart.update(gpus.map((i) => ({
        label: `GPU ${i}`,
        color: GPU_COLORS[i % GPU_COLORS.length],
        series: store.get(`system/gpu${i}/${chart.spec.name}`, 0),
      })));
    }
  }

  dropGpuCharts() {
    if (this.gpuCharts) for (const chart of this.gpuCharts) chart.destroy();
    this.gpuCharts = null;
    this.gpuKey = '';
  }
}
