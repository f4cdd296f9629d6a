"""Stand-in for lightning.fabric.utilities.rank_zero: the global rank, read once from the
environment; a strategy overwrites ``rank_zero_only.rank`` with the real one."""

import os
from typing import Optional

from lightning_utilities.core.rank_zero import rank_zero_only


def _get_rank() -> Optional[int]:
    for key in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        rank = os.environ.get(key)
        if rank is not None:
            return int(rank)
    return None


rank_zero_only.rank = getattr(rank_zero_only, "rank", _get_rank() or 0)
