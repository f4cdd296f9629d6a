"""Values the C++ hot path does not read itself: numpy scalars, 0-d tensors, CUDA tensors.

The extension reads int, float and bool in C and calls `convert` for anything else.

A tensor on an accelerator is never synchronised inside log(): reading it (`.item()`) would
wait for every kernel queued before it, which costs a GPU trainer tens of milliseconds a
step. Instead it is copied to the host without blocking, an event is recorded behind the
copy, and the value is logged under its own step once the event has completed: checked on
every later log() while any wait, and forced by Run.flush()/finish(). A run created with
sync=True reads such tensors at once instead.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable

from . import _native


@dataclass(eq=False)  # compared by identity: the fields hold tensors
class _Deferred:
    metric: Any  # the trainscope._native.Metric to log into
    step: int
    host_copy: Any  # the value's tensor, on its way to host memory
    event: Any  # completes once host_copy holds the value


def _cuda_event() -> Any:
    import torch

    return torch.cuda.Event()


# Replaceable in tests (there is no GPU here): how an event is made, and which tensors are
# read later rather than now.
event_factory: Callable[[], Any] = _cuda_event


def is_deferred_device(tensor: Any) -> bool:
    """Tensors on an accelerator (cuda, and anything else that is not host memory)."""
    return not tensor.is_cpu and not tensor.is_meta


_pending: list[_Deferred] = []
# Autograd may run hooks (watch()'s gradient norms) on a device thread: guard the list.
_lock = threading.Lock()


def pending_count() -> int:
    return len(_pending)


def _set_pending() -> None:
    _native.set_pending(len(_pending))


def _refuse(value: Any, why: str = "") -> ValueError:
    return ValueError(
        f"cannot log a {type(value).__module__}.{type(value).__qualname__}{why}: expected a number "
        "(int, float, bool), a numpy scalar or a 0-d tensor")


def _read_tensor(metric: Any, step: int, tensor: Any) -> float | None:
    # Cheap checks first: this is the path of every loss tensor a trainer logs.
    if tensor.numel() != 1:
        raise _refuse(tensor, f" of shape {tuple(tensor.shape)}")
    if tensor.is_complex():
        raise _refuse(tensor, " (complex)")
    if not is_deferred_device(tensor) or getattr(_owner_of(metric), "sync", False):
        return float(tensor.item())  # one element: item() needs no reshape, nor a detach
    host = tensor.detach().reshape(()).to("cpu", non_blocking=True)
    event = event_factory()
    event.record()
    with _lock:
        _pending.append(_Deferred(metric, step, host, event))
        _set_pending()
    return None


def _owner_of(metric: Any) -> Any:
    return getattr(metric, "_owner", None)


def convert(metric: Any, step: int, value: Any) -> float | None:
    """A value the C hot path could not read: its float, or None once deferred."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _read_tensor(metric, step, value)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.generic, numpy.ndarray)):
        if value.size != 1 or not (numpy.issubdtype(value.dtype, numpy.number) or value.dtype == numpy.bool_):
            raise _refuse(value, f" of dtype {value.dtype} and shape {numpy.shape(value)}")
        if numpy.iscomplexobj(value):
            raise _refuse(value, " (complex)")
        return float(value.reshape(()) if isinstance(value, numpy.ndarray) else value)
    if isinstance(value, (str, bytes, complex)) or not hasattr(type(value), "__float__"):
        raise _refuse(value)
    return float(value)  # Decimal, Fraction, and other numbers that say how


def poll() -> None:
    """Logs every deferred value whose copy has completed (called while any wait)."""
    done: list[_Deferred] = []
    with _lock:
        waiting: list[_Deferred] = []
        for d in _pending:
            (done if d.event.query() else waiting).append(d)
        if done:
            _pending[:] = waiting
            _set_pending()
    for d in done:
        d.metric._log_float(d.step, float(d.host_copy.item()))


def flush() -> None:
    """Waits for every deferred value and logs it."""
    while True:
        with _lock:
            if not _pending:
                return
            d = _pending.pop(0)
            _set_pending()
        d.event.synchronize()
        d.metric._log_float(d.step, float(d.host_copy.item()))


def _forget_in_child() -> None:
    # A forked child (a DataLoader worker) must not log its parent's values a second time.
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    _pending.clear()
    _set_pending()


_native.set_hooks(convert, poll)
os.register_at_fork(after_in_child=_forget_in_child)
