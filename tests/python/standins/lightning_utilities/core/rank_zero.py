"""Stand-in for lightning_utilities.core.rank_zero."""

from functools import wraps
from typing import Any, Callable, Optional


def rank_zero_only(fn: Callable) -> Callable:
    """Run `fn` only where ``rank_zero_only.rank`` is 0 (elsewhere it returns None)."""

    @wraps(fn)
    def wrapped_fn(*args: Any, **kwargs: Any) -> Optional[Any]:
        if not hasattr(rank_zero_only, "rank"):
            raise RuntimeError("The `rank_zero_only.rank` value needs to be set before use")
        if rank_zero_only.rank == 0:
            return fn(*args, **kwargs)
        return None

    return wrapped_fn
