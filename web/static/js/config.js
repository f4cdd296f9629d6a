// Page settings, read once from the URL:
//   ?run=ID          show this run (else follow the newest run)
//   ?max_points=N    points per series in the chart (default 1000; 16..100000)
//   ?metrics=a,b     series shown at start (default: every metric whose name holds "loss")
//   ?fps=N           most chart redraws per second (default 30; 1..120)
export function readConfig(search = window.location.search) {
  const params = new URLSearchParams(search);
  const maxPoints = Number.parseInt(params.get('max_points') || '', 10);
  const metrics = (params.get('metrics') || '').split(',').map((s) => s.trim()).filter(Boolean);
  const fps = Number.parseInt(params.get('fps') || '', 10);
  return {
    runId: params.get('run') || null,
    maxPoints: Number.isFinite(maxPoints) ? Math.min(100000, Math.max(16, maxPoints)) : 1000,
    metrics: metrics.length ? metrics : null,
    maxFps: Number.isFinite(fps) ? Math.min(120, Math.max(1, fps)) : 30,
  };
}

/** Writes the chosen run into the URL without reloading, so a reload keeps it. */
export function rememberRun(runId) {
  const url = new URL(window.location.href);
  if (runId) url.searchParams.set('run', runId);
  else url.searchParams.delete('run');
  window.history.replaceState(null, '', url);
}
