"""trainscope.Run: one training run as this process logs it.

A thin layer over the C++ SDK's Run (trainscope._native.NativeRun): the metric handles it
returns are the extension's own objects, so `metric.log(step, value)` never runs Python code
for an int or float. What this layer adds: the config as JSON, ranks, the model view,
deferred CUDA values, and ending the run as a Python program ends (a `with` block, atexit,
an uncaught exception).
"""
from __future__ import annotations

import atexit
import json
import os
import sys
import weakref
from typing import Any, Mapping

from . import _config, _env, _native, _values

_STATUSES = ("finished", "failed")
_RANKS = ("all", "zero")
_OVERFLOWS = ("drop", "block")

# Runs of this process not finished yet: finished at exit, failed by an uncaught exception.
_live: "weakref.WeakSet[Run]" = weakref.WeakSet()


class _NullMetric:
    """What metric() returns on a rank that does not log (ranks="zero")."""

    __slots__ = ("name",)
    active = False

    def __init__(self, name: str) -> None:
        self.name = name

    def log(self, step: Any, value: Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"<trainscope.Metric {self.name!r} (not logged on this rank)>"


class Run:
    """One training run. All ranks of a distributed job log into one run, each under its rank.

    Args:
        name: the run's name on the dashboard (UTF-8; cut at a character boundary past
            95 bytes).
        config: hyper-parameters (dict, argparse.Namespace, dataclass), shown with the run.
        run_id: the id every rank shares; default TRAINSCOPE_RUN_ID, else torchrun's
            TORCHELASTIC_RUN_ID, else a new one.
        rank: default RANK, else LOCAL_RANK, else 0.
        autostart: start a trainscope-agent if none serves this user (TRAINSCOPE_AUTOSTART=0
            also turns it off).
        ranks: "all" (every rank logs) or "zero" (only rank 0 logs; other ranks' runs accept
            every call and do nothing).
        sync: read accelerator tensors at once instead of deferring them.
        capacity: ring slots per logging thread (rounded up to a power of two); the ring
            absorbs bursts while the agent stores them.
        overflow: when the ring is full, "drop" the point and count it in `dropped` (never
            slows the trainer; the default) or "block" until the agent makes room.
    """

    def __init__(self, name: str, config: Any = None, *, run_id: str | None = None,
                 rank: int | None = None, autostart: bool = True, ranks: str = "all",
                 sync: bool = False, capacity: int = 1 << 16, overflow: str = "drop") -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a run needs a non-empty str name, not {name!r}")
        if ranks not in _RANKS:
            raise ValueError(f"ranks must be one of {_RANKS}, not {ranks!r}")
        if overflow not in _OVERFLOWS:
            raise ValueError(f"overflow must be one of {_OVERFLOWS}, not {overflow!r}")
        if not isinstance(capacity, int) or not 1 <= capacity <= 1 << 28:
            raise ValueError(f"capacity must be an int in 1..2**28, not {capacity!r}")
        if run_id is not None and not _native.valid_session_id(run_id):
            raise ValueError(f"run_id {run_id!r} must be 1..31 characters of [A-Za-z0-9._-], not starting with '.'")
        self.name = name
        self.rank = _env.resolve_rank(rank)
        self._pid = os.getpid()
        self._metrics: dict[str, Any] = {}
        self._ended: str | None = None
        self._native: _native.NativeRun | None = None
        config_text = _config.config_json(config) if config is not None else None
        if ranks == "zero" and self.rank != 0:
            return
        if autostart:
            _point_at_build_tree_agent()
        self._native = _native.NativeRun(name, run_id or "", self.rank, bool(autostart), capacity,
                                         overflow == "block")
        self._native.sync = bool(sync)
        if config_text is not None:
            self._native.set_config(config_text)
        _live.add(self)

    # --- logging ---------------------------------------------------------------------------

    def metric(self, name: str) -> Any:
        """The handle of metric `name`, interned once: keep it and call `.log(step, value)`.

        ValueError if the name is not 1..63 bytes of UTF-8 or the run has 512 metrics already.
        """
        m = self._metrics.get(name)
        if m is None:
            m = _NullMetric(name) if self._native is None else self._native.metric(name)
            self._metrics[name] = m
        return m

    def log(self, values: Mapping[str, Any], step: int | None = None) -> None:
        """Logs every {name: value} at `step` (None: the last step logged through this run + 1).

        Stores exactly what one metric(name).log(step, value) per key would.
        """
        if self._native is None:
            return
        if not isinstance(values, dict):
            if not isinstance(values, Mapping):
                raise ValueError(f"run.log() takes a dict of {{name: value}}, not {type(values).__name__}")
            values = dict(values)
        self._native.log_dict(values, step)

    def event(self, kind: str, text: str = "") -> bool:
        """An event on the run's timeline (a checkpoint, an eval). False if the event ring was full."""
        return self._native.event(kind, text) if self._native is not None else False

    def set_config(self, config: Any) -> None:
        """Replaces the run's config."""
        text = _config.config_json(config)
        if self._native is not None:
            self._native.set_config(text)

    def set_model_info(self, info: Mapping[str, Any] | str) -> None:
        """The model view's data: {"config": {...}, "tree": node, "total_params": n}.

        See README "GET /api/model-info". watch(model) builds it from an nn.Module.
        """
        text = info if isinstance(info, str) else json.dumps(info, separators=(",", ":"), allow_nan=False)
        size = len(text.encode("utf-8"))
        if size > _native.MODEL_INFO_MAX_BYTES:
            raise ValueError(f"model info is {size} bytes, more than the {_native.MODEL_INFO_MAX_BYTES} a run can carry")
        if self._native is not None:
            self._native.set_model_info(text)

    def watch(self, model: Any, grad_norms_every: int = 0) -> Any:
        """Shows `model` (a torch.nn.Module) on the dashboard's model view; with
        grad_norms_every=N, logs per-layer gradient norms as grad_norm/<layer> every N steps.
        Returns the Watcher (its hooks go when the run is watched again)."""
        from .watch import watch

        return watch(self, model, grad_norms_every=grad_norms_every)

    def flush(self) -> None:
        """Logs what is held back: gradient norms of the last step, and values still being
        copied off an accelerator (waiting for them)."""
        self._flush_watch()
        _values.flush()

    def _flush_watch(self) -> None:
        watch = sys.modules.get(__package__ + ".watch")  # imported only once watch() was used
        if watch is not None:
            watch.flush(self)

    # --- the end ---------------------------------------------------------------------------

    def finish(self, status: str = "finished") -> None:
        """Ends the run as "finished" or "failed". The first call wins; a forked child's call
        does nothing (it must not end its parent's run)."""
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, not {status!r}")
        if self._ended is not None or os.getpid() != self._pid:
            return
        self._ended = status
        _live.discard(self)
        if self._native is not None:
            self._flush_watch()
            _values.flush()
            self._native.finish(status == "failed")

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        self.finish("failed" if exc_type is not None else "finished")
        return False  # the exception, if any, goes on

    # --- what it is ------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        """The run's id, shared by every rank ("" on a rank that does not log)."""
        return self._native.session_id if self._native is not None else ""

    @property
    def dropped(self) -> int:
        """Points dropped so far because the ring was full (the agent fell behind)."""
        return self._native.dropped if self._native is not None else 0

    @property
    def active(self) -> bool:
        """True when points reach the agent: False on a non-logging rank, or without shared memory."""
        return self._native is not None and self._native.active

    @property
    def last_step(self) -> int:
        """The step of the latest log through this run (-1 before any)."""
        return self._native.last_step if self._native is not None else -1

    @property
    def status(self) -> str:
        """"running", or how finish() ended it."""
        return self._ended or "running"

    def __repr__(self) -> str:
        return f"<trainscope.Run {self.name!r} id={self.session_id} rank={self.rank} {self.status}>"


def init(name: str, config: Any = None, **options: Any) -> Run:
    """Starts a run: the same as trainscope.Run(name, config, **options)."""
    return Run(name, config, **options)


def _point_at_build_tree_agent() -> None:
    """Lets auto-start find the agent of the build tree this package was imported from.

    The C++ SDK looks for TRAINSCOPE_AGENT, then beside the executable (for Python that is
    /usr/bin), then on PATH. Imported from <build>/python (not resolving the symlinks that
    lead into the source tree), the agent is <build>/bin/trainscope-agent.
    """
    if os.environ.get("TRAINSCOPE_AGENT"):
        return
    candidate = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "trainscope-agent")
    if os.access(candidate, os.X_OK):
        os.environ["TRAINSCOPE_AGENT"] = os.path.normpath(candidate)


def _finish_at_exit() -> None:
    for run in list(_live):
        run.finish("finished")


def _fail_on_uncaught(previous: Any) -> Any:
    def hook(exc_type: Any, exc: Any, traceback: Any) -> None:
        for run in list(_live):
            run.finish("failed")
        previous(exc_type, exc, traceback)

    return hook


atexit.register(_finish_at_exit)
sys.excepthook = _fail_on_uncaught(sys.excepthook)
