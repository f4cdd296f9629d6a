"""Per-layer gradient norms for run.watch(model, grad_norms_every=N).

Every N steps, each layer's gradient norm (the L2 norm over all its parameters' gradients)
is logged as the metric `grad_norm/<layer path>`, the layer being the module that owns the
parameters ("transformer.h.0.attn.c_attn"; a tied weight belongs to its first owner).

Which step. The step is `run.last_step + 1` when backward runs: with the usual loop (forward,
backward, optimizer step, then log the iteration's metrics under `it`) that is `it`. The run
must log something every step for the count to move.

How, without a device sync. One hook per layer, on the gradient of its first trainable
parameter (a hook costs about half a microsecond; one per layer is enough to notice a backward
pass), does one attribute check while a backward pass runs. The first to fire in each backward
reads the step and queues a callback that autograd runs once the whole pass has finished (every
.grad accumulated). On a step that is a multiple of N that callback computes each layer's norm
as a 0-d tensor, with no .item(). The norms are held back and logged when a backward of a later
step begins (or on flush()): with gradient accumulation, every micro-batch's backward recomputes
them, so what is logged is the norm of the gradient accumulated over the whole step. A CPU norm
is read at once; a CUDA one is resolved later through the run's deferred values, without
synchronising. Logging them does not move `run.last_step`, which belongs to the trainer's own
logging. On a CUDA backward, autograd may run the hooks and the callback on its device thread.

At most MAX_LAYERS metrics (the SDK holds 512 names per run and the trainer needs some): a model
with more layers is measured at a coarser level (its blocks instead of their linears, ...).
"""
from __future__ import annotations

import warnings
from typing import Any

MAX_LAYERS = 128
METRIC_PREFIX = "grad_norm/"
METRIC_NAME_MAX_BYTES = 63  # layout.hpp kMetricNameSize, less its NUL


def metric_name(layer: str) -> str:
    """`grad_norm/<layer>`, keeping the end of a path too long for the SDK."""
    name = METRIC_PREFIX + layer
    if len(name.encode("utf-8")) <= METRIC_NAME_MAX_BYTES:
        return name
    room = METRIC_NAME_MAX_BYTES - len((METRIC_PREFIX + "…").encode("utf-8"))
    tail = layer.encode("utf-8")[-room:].decode("utf-8", errors="ignore")
    return METRIC_PREFIX + "…" + tail


def layer_groups(root: Any, max_layers: int = MAX_LAYERS) -> dict:
    """{metric name: [parameters]} for the trainable parameters of `root`, grouped by the
    module that owns them, or by a shallower ancestor when there would be more than
    `max_layers` groups. Parameters of the root itself are named after its class."""
    named = [(name.rpartition(".")[0], p) for name, p in root.named_parameters() if p.requires_grad]
    depth = max((len(path.split(".")) for path, _ in named if path), default=0)
    while True:
        groups: dict = {}
        for path, p in named:
            layer = ".".join(path.split(".")[:depth]) if path else ""
            groups.setdefault(metric_name(layer or type(root).__name__), []).append(p)
        if len(groups) <= max_layers or depth == 0:
            return groups
        depth -= 1


def _first_of_each_layer(root: Any) -> list:
    """The first trainable parameter of each module that owns some."""
    first: dict = {}
    for name, p in root.named_parameters():
        if p.requires_grad:
            first.setdefault(name.rpartition(".")[0], p)
    return list(first.values())


def _grad_norm(grads: list) -> Any:
    """The L2 norm over several gradients, as a 0-d float32 tensor on the first one's device."""
    import torch

    norms = []
    for g in grads:
        if g.is_sparse:
            g = g.coalesce()._values()
        n = torch.linalg.vector_norm(g, 2, dtype=torch.float32) if g.dtype in (torch.float16, torch.bfloat16) \
            else torch.linalg.vector_norm(g, 2)
        norms.append(n.float())
    device = norms[0].device
    return torch.linalg.vector_norm(torch.stack([n.to(device, non_blocking=True) for n in norms]), 2)


class GradNorms:
    """The hooks and held-back norms of one watch(): see the module docstring."""

    def __init__(self, run: Any, root: Any, every: int, max_layers: int = MAX_LAYERS) -> None:
        self.run = run
        self.every = every
        self.groups = layer_groups(root, max_layers)
        self.metrics: dict = {}
        self.in_backward = False  # a hook of the running backward pass has fired
        self.step = -1            # the step of the running (or last) backward pass
        self.pending: tuple | None = None  # (step, {name: 0-d tensor}) not yet logged
        self.failed = False
        self.handles = [p.register_hook(self._on_grad) for p in _first_of_each_layer(root)]

    def _on_grad(self, grad: Any) -> None:
        if self.in_backward or self.failed:
            return
        try:
            from torch.autograd import Variable

            Variable._execution_engine.queue_callback(self._after_backward)
            self.in_backward = True
            self.step = self.run.last_step + 1
            if self.pending is not None and self.pending[0] != self.step:
                self.flush()
        except Exception as e:  # noqa: BLE001 - never fail the trainer's backward
            self._fail(e)

    def _after_backward(self) -> None:
        self.in_backward = False
        if self.step % self.every != 0 or self.failed:
            return
        try:
            import torch

            with torch.no_grad():
                norms = {}
                for name, params in self.groups.items():
                    grads = [p.grad for p in params if p.grad is not None]
                    if grads:
                        norms[name] = _grad_norm(grads)
            self.pending = (self.step, norms)
        except Exception as e:  # noqa: BLE001
            self._fail(e)

    def flush(self) -> None:
        """Logs the norms held back, if any."""
        from . import _values

        pending, self.pending = self.pending, None
        if pending is None:
            return
        step, norms = pending
        for name, norm in norms.items():
            try:
                metric = self.metrics.get(name)
                if metric is None:
                    metric = self.metrics[name] = self.run.metric(name)
                if not hasattr(metric, "_log_float"):
                    continue  # a rank that does not log
                # convert() reads a CPU tensor, or defers a CUDA one (None) and logs it later.
                value = _values.convert(metric, step, norm)
                if value is not None:
                    metric._log_float(step, value)
            except Exception as e:  # noqa: BLE001 - a full metric table, a finished run
                self._fail(e)
                return

    def _fail(self, error: Exception) -> None:
        self.failed = True
        self.pending = None
        warnings.warn(f"trainscope: gradient norms stopped: {error}", RuntimeWarning, stacklevel=2)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []
