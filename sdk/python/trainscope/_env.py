"""Where a run's rank and shared run id come from in a distributed job.

torchrun sets RANK (global) and LOCAL_RANK (per node), and TORCHELASTIC_RUN_ID for the job
(the string "none" outside a rendezvous). The C++ SDK reads the run id itself, in the same
order: TRAINSCOPE_RUN_ID, else TORCHELASTIC_RUN_ID (mapped to a valid id when it is a UUID).
"""
from __future__ import annotations

import os


def resolve_rank(rank: int | None) -> int:
    """The explicit rank, else RANK, else LOCAL_RANK, else 0."""
    if rank is not None:
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 0:
            raise ValueError(f"rank must be a non-negative int, not {rank!r}")
        return rank
    for name in ("RANK", "LOCAL_RANK"):
        text = os.environ.get(name, "").strip()
        if text:
            try:
                return max(0, int(text))
            except ValueError:
                raise ValueError(f"{name}={text!r} is not an integer rank") from None
    return 0
