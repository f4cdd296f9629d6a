"""Trainscope for Python trainers: live training metrics through shared memory.

    import trainscope
    with trainscope.init("gpt-small", config=vars(args)) as run:
        run.watch(model)
        loss = run.metric("train/loss")      # interned once; keep the handle
        for it in range(max_iters):
            ...
            loss.log(it, loss_tensor)        # a fraction of a microsecond, no device sync
            run.log({"lr": lr, "grad_norm": g}, step=it)

Every point goes through the header-only C++ SDK (trainscope._native) into a shared-memory
ring that the trainscope-agent drains; the agent serves the live dashboard.
"""
from ._native import Metric
from .run import Run, init

__all__ = ["Run", "Metric", "init"]
__version__ = "0.1.0"
