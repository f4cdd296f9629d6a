"""A run's config (hyper-parameters) as the JSON object the agent stores.

Accepts what trainers have at hand: a mapping, an argparse.Namespace (`vars(args)` or the
Namespace itself), a dataclass, or any object with a __dict__; nested ones too, and enums. Values JSON cannot hold are
made readable rather than refused: NaN and infinities become strings, tuples and sets lists,
anything else its str().
"""
from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from typing import Any

from . import _native


def to_mapping(config: Any) -> dict:
    """The config as a plain dict (not yet JSON-safe)."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if hasattr(config, "to_dict") and callable(config.to_dict):  # transformers' configs
        return config.to_dict()
    if hasattr(config, "__dict__"):
        return {k: v for k, v in vars(config).items() if not k.startswith("_")}
    raise ValueError(f"config must be a dict, a Namespace or a dataclass, not {type(config).__name__}")


def json_safe(value: Any, depth: int = 0) -> Any:
    """`value` with everything JSON cannot express replaced by a readable equivalent."""
    if depth > 32:
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # "nan", "inf", "-inf"
    if isinstance(value, enum.Enum):
        return json_safe(value.value, depth + 1)
    if isinstance(value, argparse.Namespace):
        value = vars(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v, depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value), depth + 1)
    item = getattr(value, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(value, "ndim", 1) == 0:
        try:
            return json_safe(item(), depth + 1)
        except Exception:  # noqa: BLE001 - a scalar that cannot be read is shown as text
            pass
    return str(value)


def config_json(config: Any) -> str:
    """The config as compact JSON; ValueError if it exceeds what the SDK can carry."""
    text = json.dumps(json_safe(to_mapping(config)), separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode("utf-8"))
    if size > _native.CONFIG_MAX_BYTES:
        raise ValueError(f"config is {size} bytes as JSON, more than the {_native.CONFIG_MAX_BYTES} a run can carry")
    return text
