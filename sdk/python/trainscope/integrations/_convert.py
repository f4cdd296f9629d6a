"""Conversions the integrations share: hyper-parameters to a run's config, logged values to
metrics and events."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from .._config import json_safe, to_mapping


def config_dict(params: Any) -> dict:
    """Hyper-parameters (a mapping, an argparse Namespace or a dataclass, nested ones too) as
    the JSON-safe dict a run stores as its config (ValueError for anything else)."""
    return json_safe(to_mapping(params))


def _is_zero_dim(value: Any) -> bool:
    """A 0-d numpy array or torch tensor."""
    return getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None))


def split_values(values: Mapping, separator: str = "/") -> tuple[dict, dict]:
    """Logged values as (metrics, texts).

    Metrics are the numbers (as floats) and 0-d tensors or arrays (passed on untouched, so a
    CUDA tensor is not synchronised here); texts are the strings. A nested mapping becomes
    ``outer/inner`` names. Anything else (None, lists, images) is left out.
    """
    metrics: dict = {}
    texts: dict = {}
    for key, value in values.items():
        name = str(key)
        if isinstance(value, Mapping):
            inner_metrics, inner_texts = split_values(value, separator)
            metrics.update({name + separator + k: v for k, v in inner_metrics.items()})
            texts.update({name + separator + k: v for k, v in inner_texts.items()})
        elif isinstance(value, str):
            texts[name] = value
        elif isinstance(value, numbers.Real):
            metrics[name] = float(value)
        elif _is_zero_dim(value):
            metrics[name] = value
    return metrics, texts
