"""Stand-in for lightning.pytorch.utilities.rank_zero (re-exports fabric's)."""

from lightning.fabric.utilities.rank_zero import rank_zero_only  # noqa: F401
