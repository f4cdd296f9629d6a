"""run.watch(model): the model diagram from an nn.Module, and per-layer gradient norms.

`describe_model(model)` turns a PyTorch module into the model info the dashboard draws
(README, GET /api/model-info): `config`, the layer `tree`, `total_params`. Each tree node is
{name, type, params, children, [input_shape, output_shape], parameters, ...attributes}.

Choices the page relies on:
- Names. A node's `name` is its attribute name in its parent; ModuleList and ModuleDict are
  plain namespaces (no forward of their own), so they are folded into their parent and their
  children are named with the dotted rest ("transformer.h.0"). The page joins names with dots,
  so every node's path on the page is the module's own dotted path from named_modules(), the
  same path the grad_norm/<path> metrics use. The root is named after its class.
- No `path` field on nodes: the page treats every scalar field as an attribute, and attributes
  are part of the signature that folds identical blocks; a per-block path would stop that.
- Tied weights (nanoGPT ties transformer.wte.weight and lm_head.weight) are counted once, by
  the first owner in named_parameters() order; a later owner lists the parameter with
  `tied_to` and adds 0, so `total_params == sum(p.numel() for p in model.parameters())`.
- Shapes come from the first forward pass after watch(): a forward hook per module records the
  first tensor in and out, then all of them are removed and the model info is sent again.
  A torch.compile'd model gets no such hooks (they would be traced into its graph).
- The SDK's model-info blob holds 512 KiB: a bigger description loses, in turn, the
  per-parameter lists, the shapes and attributes, then the deepest levels of the tree. It never
  raises into the trainer.
"""
from __future__ import annotations

import functools
import json
import warnings
import weakref
from typing import Any, Callable

from . import _native
from ._config import json_safe, to_mapping

MODEL_INFO_MAX_BYTES = _native.MODEL_INFO_MAX_BYTES  # the SDK's blob (layout.hpp)
MAX_TREE_DEPTH = 32  # the agent refuses deeper trees (agent/src/serve/model_info_check.cpp)

# Integer attributes worth showing when a module has them (Linear, Embedding, Conv, attention).
_INT_ATTRIBUTES = ("in_features", "out_features", "num_embeddings", "embedding_dim", "in_channels",
                   "out_channels", "num_heads", "n_head", "embed_dim")


def unwrap(model: Any) -> Any:
    """The module a wrapper trains: DataParallel / DistributedDataParallel `.module`,
    torch.compile's `._orig_mod`, repeatedly (a compiled DDP model, say)."""
    import torch.nn as nn

    wrappers = (nn.DataParallel, nn.parallel.DistributedDataParallel)
    while True:
        if isinstance(model, wrappers):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), nn.Module):
            model = model._orig_mod
        else:
            return model


def _is_compiled(model: Any) -> bool:
    """Whether torch.compile wrapped the model (or the module a DDP wrapper holds)."""
    import torch.nn as nn

    while isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    return isinstance(getattr(model, "_orig_mod", None), nn.Module)


def _is_namespace(module: Any) -> bool:
    import torch.nn as nn

    return isinstance(module, (nn.ModuleList, nn.ModuleDict)) and not module._parameters


def _dims(value: Any) -> Any:
    """A shape-like attribute as a scalar the page shows: 64, or "3×3"."""
    dims = [int(d) for d in value] if isinstance(value, (tuple, list)) else [int(value)]
    return dims[0] if len(dims) == 1 else "×".join(str(d) for d in dims)


def _attributes(module: Any) -> dict:
    """Cheap, scalar facts about a layer (in/out features, heads, dropout p, ...)."""
    import torch.nn as nn

    out: dict = {}
    for key in _INT_ATTRIBUTES:
        value = getattr(module, key, None)
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
    try:
        if isinstance(module, nn.LayerNorm):
            out["normalized_shape"] = _dims(module.normalized_shape)
        elif isinstance(module, nn.modules.conv._ConvNd):
            out["kernel_size"] = _dims(module.kernel_size)
            out["stride"] = _dims(module.stride)
        elif isinstance(module, nn.modules.dropout._DropoutNd):
            out["p"] = float(module.p)
    except (TypeError, ValueError):
        pass  # an unusual subclass: the attribute is just not shown
    return out


def _first_shape(value: Any) -> list | None:
    """The shape of the first tensor in a forward's arguments or result."""
    import torch

    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        for item in value:
            if isinstance(item, torch.Tensor):
                return list(item.shape)
    return None


class _Walk:
    """State of one pass over the module tree."""

    def __init__(self, root: Any, shapes: dict | None) -> None:
        # named_parameters() deduplicates: the name it gives is the first owner's.
        self.owner = {id(p): name for name, p in root.named_parameters()}
        self.shapes = shapes or {}
        self.tied: list = []  # (module path, owner's parameter path) for the lm_head hint

    def node(self, module: Any, name: str, path: str) -> dict:
        node: dict = {"name": name, "type": type(module).__name__}
        shape = self.shapes.get(path)
        if shape is not None:
            node["input_shape"], node["output_shape"] = shape
        node.update(_attributes(module))
        own = 0
        parameters = []
        tied_to = []
        for pname, p in module._parameters.items():
            if p is None:
                continue
            full = f"{path}.{pname}" if path else pname
            entry = {"name": pname, "shape": list(p.shape), "count": p.numel(), "trainable": p.requires_grad}
            owner = self.owner.get(id(p), full)
            if owner != full:
                entry["tied_to"] = owner
                tied_to.append(owner)
                self.tied.append((path, owner))
            else:
                own += p.numel()
            parameters.append(entry)
        if tied_to:
            node["tied_to"] = ", ".join(tied_to)
        if parameters:
            node["parameters"] = parameters
        children = []
        self._children(module, "", path, children)
        node["params"] = own + sum(c["params"] for c in children)
        node["children"] = children
        return node

    def _children(self, module: Any, prefix: str, path: str, out: list) -> None:
        for cname, child in module.named_children():
            child_path = f"{path}.{cname}" if path else cname
            if _is_namespace(child):
                self._children(child, f"{prefix}{cname}.", child_path, out)
            else:
                out.append(self.node(child, prefix + cname, child_path))


def _model_config(root: Any) -> dict:
    config = getattr(root, "config", None)
    if config is None:
        return {}
    try:
        mapping = to_mapping(config)
    except (TypeError, ValueError):
        return {"config": str(config)}
    safe = json_safe(mapping)
    return safe if isinstance(safe, dict) else {}


def describe_model(model: Any, shapes: dict | None = None) -> dict:
    """The model info of `model` (wrappers removed) as a JSON-ready dict: `config` (the
    model's own `config` attribute, if any), `tree`, `total_params` (tied weights once) and
    `trainable_params`. `shapes`: {module path: (input_shape, output_shape)} from a forward
    ("" for the root)."""
    root = unwrap(model)
    walk = _Walk(root, shapes)
    tree = walk.node(root, type(root).__name__, "")
    unique = list(root.parameters())
    config = _model_config(root)
    # The page labels a head with no parameters of its own "tied to wte" when the config says so.
    if any(path.split(".")[-1] == "lm_head" and owner.split(".")[-2:-1] == ["wte"] for path, owner in walk.tied):
        config.setdefault("tied_lm_head", True)
    return {
        "config": config,
        "tree": tree,
        "total_params": sum(p.numel() for p in unique),
        "trainable_params": sum(p.numel() for p in unique if p.requires_grad),
    }


# ---- fitting the blob ----

def _encode(info: dict) -> str:
    return json.dumps(info, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _strip(node: dict, keys: tuple) -> None:
    for key in keys:
        node.pop(key, None)
    for child in node.get("children", ()):
        _strip(child, keys)


def _prune(node: dict, levels_left: int) -> None:
    """Drops the children of nodes `levels_left` below `node`; their params stay summed."""
    children = node.get("children", [])
    if levels_left <= 0 and children:
        node["children_omitted"] = len(children)
        node["children"] = []
        return
    for child in children:
        _prune(child, levels_left - 1)


def _depth(node: dict) -> int:
    return 1 + max((_depth(c) for c in node.get("children", ())), default=0)


def fit_model_info(info: dict, max_bytes: int = MODEL_INFO_MAX_BYTES) -> tuple[str, list]:
    """`info` as JSON of at most `max_bytes`, and what had to be left out for that (a list
    of short notes, also in info["omitted"]; empty when everything fits). Modifies `info`."""
    notes: list = []
    tree = info["tree"]
    if _depth(tree) > MAX_TREE_DEPTH + 1:
        _prune(tree, MAX_TREE_DEPTH)
        notes.append(f"levels below {MAX_TREE_DEPTH}")

    def fits() -> bool:
        # "omitted" is counted in: it is added once something was left out.
        extra = len(json.dumps({"omitted": ", ".join(notes + ["x" * 80])}, ensure_ascii=False).encode())
        return len(_encode(info).encode("utf-8")) + extra <= max_bytes

    for what, leave_out in (("per-parameter lists", lambda: _strip(tree, ("parameters",))),
                            ("shapes and layer attributes", lambda: _strip_details(tree))):
        if fits():
            break
        leave_out()
        notes.append(what)
    levels = deepest = _depth(tree) - 1
    while not fits() and levels > 0:
        levels -= 1
        _prune(tree, levels)
    if levels < deepest:
        notes.append(f"layers more than {levels} levels below the model")
    if not fits():  # a config too big on its own
        info["config"] = {}
        notes.append("config")
    if notes:
        info["omitted"] = ", ".join(notes)
    return _encode(info), notes


def _strip_details(node: dict) -> None:
    keep = {"name", "type", "params", "children", "children_omitted", "tied_to"}
    for key in [k for k in node if k not in keep]:
        del node[key]
    for child in node.get("children", ()):
        _strip_details(child)


# ---- shapes from the first forward ----

class _ShapeRecorder:
    """Forward hooks on every module for one forward pass of the root, then none. Shapes are
    keyed by module path, which DataParallel's replicas (copies that share the hooks) keep."""

    def __init__(self, root: Any, done: Callable[[dict], None]) -> None:
        self.shapes: dict = {}
        self.handles: list = []
        self.done = done
        for path, module in root.named_modules():
            self.handles.append(module.register_forward_hook(functools.partial(self._record, path)))
        self.handles.append(root.register_forward_hook(self._finish))

    def _record(self, path: str, module: Any, inputs: Any, output: Any) -> None:
        if path not in self.shapes:
            self.shapes[path] = (_first_shape(inputs), _first_shape(output))

    def _finish(self, module: Any, inputs: Any, output: Any) -> None:
        self.remove()
        try:
            self.done(self.shapes)
        except Exception as e:  # noqa: BLE001 - the trainer's forward must not fail for us
            warnings.warn(f"trainscope: could not send the model's shapes: {e}", RuntimeWarning, stacklevel=2)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []


# ---- run.watch ----

class Watcher:
    """What watch() attached to a model: the shape hooks (until the first forward) and the
    gradient-norm hooks. `flush()` logs gradient norms still held back; `remove()` detaches."""

    def __init__(self, run: Any, model: Any, grad_norms_every: int) -> None:
        from ._grad_norms import GradNorms

        self.run = run
        self.root = unwrap(model)
        self.info: dict | None = None
        self.omitted: list = []
        self.shapes: _ShapeRecorder | None = None
        # A rank that does not log (ranks="zero") gets no gradient hooks at all.
        logs = grad_norms_every > 0 and getattr(run, "active", True)
        self.grad_norms = GradNorms(run, self.root, grad_norms_every) if logs else None

    def send(self, shapes: dict | None = None) -> None:
        info = describe_model(self.root, shapes)
        text, self.omitted = fit_model_info(info)
        if self.omitted:
            warnings.warn(f"trainscope: the model info is too big for the dashboard; left out: "
                          f"{', '.join(self.omitted)}", RuntimeWarning, stacklevel=3)
        self.info = info
        self.run.set_model_info(text)

    def record_shapes(self) -> None:
        self.shapes = _ShapeRecorder(self.root, self.send)

    def flush(self) -> None:
        if self.grad_norms is not None:
            self.grad_norms.flush()

    def remove(self) -> None:
        if self.shapes is not None:
            self.shapes.remove()
        if self.grad_norms is not None:
            self.grad_norms.flush()
            self.grad_norms.remove()


_watchers: "weakref.WeakKeyDictionary[Any, Watcher]" = weakref.WeakKeyDictionary()


def watch(run: Any, model: Any, grad_norms_every: int = 0, *, shapes: bool = True) -> Watcher:
    """Sends `model`'s layer tree as the run's model info (again with shapes after the first
    forward pass, when `shapes`), and with `grad_norms_every=N` logs per-layer gradient norms
    `grad_norm/<layer path>` every N steps (see trainscope._grad_norms). A second watch() on
    the same run replaces the first one's hooks. Returns the Watcher."""
    import torch.nn as nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"watch() needs a torch.nn.Module, not {type(model).__name__}")
    if not isinstance(grad_norms_every, int) or grad_norms_every < 0:
        raise ValueError(f"grad_norms_every must be a non-negative int, not {grad_norms_every!r}")
    previous = _watchers.pop(run, None)
    if previous is not None:
        previous.remove()
    watcher = Watcher(run, model, grad_norms_every)
    _watchers[run] = watcher
    try:
        watcher.send()
        if shapes and not _is_compiled(model):
            watcher.record_shapes()
    except Exception as e:  # noqa: BLE001 - a diagram that cannot be drawn must not stop training
        warnings.warn(f"trainscope: could not describe the model: {e}", RuntimeWarning, stacklevel=2)
    return watcher


def flush(run: Any) -> None:
    """Logs the gradient norms `run`'s watcher still holds back (Run.flush()/finish() call it)."""
    watcher = _watchers.get(run)
    if watcher is not None:
        watcher.flush()
