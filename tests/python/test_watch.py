"""run.watch(model): the model info built from an nn.Module, and per-layer gradient norms.

describe_model() is checked on its own against torch's own counts and against the page's
layout code (web/static/js/model_layout.js, run in node); the rest runs against a real agent:
GET /api/model-info returns the tree, and grad_norm/<layer> series hold the norms computed
directly from .grad, at the right steps only.
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import tiny_gpt
import trainscope
from conftest import REPO
from tiny_gpt import GPT, TinyConfig
from trainscope import watch as watch_module
from trainscope.watch import describe_model, fit_model_info

EXAMPLE_DIR = REPO / "sdk" / "examples" / "python"
LAYOUT_JS = REPO / "web" / "static" / "js" / "model_layout.js"


def example_gpt(n_layer: int = 2):
    """The example trainer's GPT (sdk/examples/python/gpt_model.py)."""
    sys.path.insert(0, str(EXAMPLE_DIR))
    try:
        import gpt_model
    finally:
        sys.path.remove(str(EXAMPLE_DIR))
    return gpt_model.GPT(gpt_model.GPTConfig(vocab_size=23, block_size=8, n_layer=n_layer, n_head=2, n_embd=16))


MODELS = {
    "tiny": lambda: GPT(TinyConfig()),
    "example": example_gpt,
}


def walk(node: dict, path: str = "", is_root: bool = True):
    """(page path, node) for every node, paths joined as the page joins them."""
    yield path or node["name"], node
    for child in node.get("children", []):
        yield from walk(child, child["name"] if is_root else f"{path}.{child['name']}", False)


def find(tree: dict, path: str) -> dict:
    return next(node for p, node in walk(tree) if p == path)


# ---- the tree ---------------------------------------------------------------------------

@pytest.mark.parametrize("which", MODELS)
def test_total_counts_every_unique_parameter_once(which: str) -> None:
    model = MODELS[which]()
    info = describe_model(model)
    unique = sum(p.numel() for p in model.parameters())
    assert info["total_params"] == unique
    assert info["tree"]["params"] == unique
    # Each node's params is its own (untied) parameters plus its children's.
    for _, node in walk(info["tree"]):
        own = sum(p["count"] for p in node.get("parameters", []) if "tied_to" not in p)
        assert node["params"] == own + sum(c["params"] for c in node["children"]), node["name"]
    # Every parameter is listed once as its own, under the name named_parameters() gives it.
    owned = {f"{p}.{q['name']}" if p != "GPT" else q["name"]
             for p, node in walk(info["tree"]) for q in node.get("parameters", []) if "tied_to" not in q}
    assert owned == {name for name, _ in model.named_parameters()}


def test_trainable_count_leaves_out_frozen_parameters() -> None:
    model = GPT(TinyConfig())
    model.transformer.wpe.weight.requires_grad_(False)
    info = describe_model(model)
    assert info["trainable_params"] == info["total_params"] - model.transformer.wpe.weight.numel()
    wpe = find(info["tree"], "transformer.wpe")
    assert wpe["parameters"] == [{"name": "weight", "shape": [8, 16], "count": 128, "trainable": False}]


@pytest.mark.parametrize("which", MODELS)
def test_tied_head_adds_nothing_and_names_the_owner(which: str) -> None:
    model = MODELS[which]()
    info = describe_model(model)
    wte = find(info["tree"], "transformer.wte")
    head = find(info["tree"], "lm_head")
    V, C = model.transformer.wte.weight.shape
    assert wte["params"] == V * C and "tied_to" not in wte
    assert head["params"] == 0
    assert head["tied_to"] == "transformer.wte.weight"
    assert head["parameters"] == [{"name": "weight", "shape": [V, C], "count": V * C, "trainable": True,
                                   "tied_to": "transformer.wte.weight"}]
    assert info["config"]["tied_lm_head"] is True  # the page then labels the head "tied to wte"


def test_untied_head_counts_its_own_weight() -> None:
    model = GPT(TinyConfig(tied=False))
    info = describe_model(model)
    head = find(info["tree"], "lm_head")
    assert head["params"] == 17 * 16 and "tied_to" not in head
    assert "tied_lm_head" not in info["config"]
    assert info["total_params"] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("which", MODELS)
def test_page_paths_are_the_module_paths(which: str) -> None:
    """ModuleDict/ModuleList fold into their parent, so the page's paths are named_modules()'."""
    model = MODELS[which]()
    tree = describe_model(model)["tree"]
    pages = {p for p, _ in walk(tree)} - {tree["name"]}
    modules = {name for name, m in model.named_modules()
               if name and not isinstance(m, (nn.ModuleList, nn.ModuleDict))}
    assert pages == modules
    assert [c["name"] for c in tree["children"]][:4] == ["transformer.wte", "transformer.wpe", "transformer.drop",
                                                       "transformer.h.0"]
    assert tree["name"] == tree["type"] == "GPT"


def test_layer_attributes_like_the_cpp_tree() -> None:
    tree = describe_model(GPT(TinyConfig()))["tree"]
    assert find(tree, "transformer.wte")["num_embeddings"] == 17
    assert find(tree, "transformer.wte")["embedding_dim"] == 16
    c_attn = find(tree, "transformer.h.1.attn.c_attn")
    assert (c_attn["type"], c_attn["in_features"], c_attn["out_features"]) == ("Linear", 16, 48)
    assert find(tree, "transformer.h.1.attn")["n_head"] == 2
    assert find(tree, "transformer.ln_f")["normalized_shape"] == 16
    assert find(tree, "transformer.drop")["p"] == 0.0


@dataclass
class OddConfig:
    n_layer: int = 2
    lr: float = float("nan")
    betas: tuple = (0.9, 0.95)
    dtype: torch.dtype = torch.float32
    extra: dict = field(default_factory=lambda: {"inf": float("inf")})


def test_config_is_made_json_safe() -> None:
    model = GPT(TinyConfig())
    model.config = OddConfig()
    info = describe_model(model)
    assert info["config"] == {"n_layer": 2, "lr": "nan", "betas": [0.9, 0.95], "dtype": "torch.float32",
                              "extra": {"inf": "inf"}, "tied_lm_head": True}
    json.dumps(info, allow_nan=False)
    model.config = {"n_layer": 2}
    assert describe_model(model)["config"]["n_layer"] == 2
    del model.config
    assert describe_model(model)["config"] == {"tied_lm_head": True}


# ---- wrappers ---------------------------------------------------------------------------

class Compiled(nn.Module):
    """What torch.compile returns in torch 2 (OptimizedModule): the model as `_orig_mod`.
    torch 1.13 has no torch.compile, so this stands in for it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self._orig_mod = model

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)


def test_wrappers_are_removed() -> None:
    model = GPT(TinyConfig())
    plain = describe_model(model)
    assert describe_model(nn.DataParallel(model)) == plain  # a real wrapper, on CPU
    assert describe_model(Compiled(model)) == plain
    assert describe_model(nn.DataParallel(Compiled(model))) == plain


def test_ddp_wrapper_is_removed(tmp_path: Path) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        model = GPT(TinyConfig())
        ddp = nn.parallel.DistributedDataParallel(model)
        assert describe_model(ddp) == describe_model(model)
    finally:
        dist.destroy_process_group()


# ---- the page's folding -----------------------------------------------------------------

def page_layout(info: dict) -> dict:
    """What the page's own layout code makes of `info` (model_layout.js in node)."""
    node = shutil.which("node")
    assert node is not None, "node is not installed (tools/bootstrap installs it)"
    script = (f"import {{ layoutModel, identicalRuns }} from {json.dumps(LAYOUT_JS.as_uri())};\n"
              "let s = ''; process.stdin.on('data', (d) => { s += d; }); process.stdin.on('end', () => {\n"
              "  const info = JSON.parse(s); const l = layoutModel(info);\n"
              "  console.log(JSON.stringify({ blocks: l.blocks, total: l.total, runs: identicalRuns(info.tree.children),\n"
              "    ranges: l.ranges.map((r) => ({ count: r.count, first: r.first, last: r.last })) }));\n"
              "});\n")
    out = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(info),
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


@pytest.mark.parametrize("which", MODELS)
def test_identical_blocks_fold_on_the_page(which: str) -> None:
    if which == "tiny":
        model = GPT(TinyConfig(n_layer=10))
    else:
        model = example_gpt(n_layer=10)
    info = describe_model(model)
    children = [c["name"] for c in info["tree"]["children"]]
    layout = page_layout(info)
    assert layout["runs"] == [{"start": children.index("transformer.h.0"), "end": children.index("transformer.h.9") + 1}]
    assert layout["ranges"] == [{"count": 6, "first": "transformer.h.2", "last": "transformer.h.7"}]
    assert layout["blocks"] == 4, "h.0, h.1, h.8 and h.9 drawn as residual blocks"
    assert layout["total"] == sum(p.numel() for p in model.parameters())


def test_a_different_block_is_not_folded_with_the_others() -> None:
    model = GPT(TinyConfig(n_layer=4))
    model.transformer.h[2].mlp.c_fc = nn.Linear(16, 32)  # narrower MLP in one block
    model.transformer.h[2].mlp.c_proj = nn.Linear(32, 16)
    runs = page_layout(describe_model(model))["runs"]
    assert runs == [{"start": 3, "end": 5}], "only h.0 and h.1 are identical"


# ---- size -------------------------------------------------------------------------------

def wide_model(blocks: int, per_block: int) -> nn.Module:
    return nn.Sequential(*[nn.Sequential(*[nn.Linear(2, 2) for _ in range(per_block)]) for _ in range(blocks)])


def test_a_big_model_drops_parameter_lists_first() -> None:
    model = wide_model(60, 50)  # 3,000 Linear layers
    info = describe_model(model)
    full = len(json.dumps(info, separators=(",", ":")))
    assert full > watch_module.MODEL_INFO_MAX_BYTES
    text, omitted = fit_model_info(info)
    assert len(text.encode()) <= watch_module.MODEL_INFO_MAX_BYTES
    assert omitted == ["per-parameter lists"]
    fitted = json.loads(text)
    assert fitted["omitted"] == "per-parameter lists"
    assert fitted["total_params"] == fitted["tree"]["params"] == 3000 * 6
    assert len(fitted["tree"]["children"][59]["children"]) == 50
    assert fitted["tree"]["children"][59]["children"][49]["in_features"] == 2


def test_a_huge_model_loses_its_deepest_levels_but_keeps_its_counts() -> None:
    model = wide_model(200, 100)  # 20,000 layers: too big even without details
    info = describe_model(model)
    text, omitted = fit_model_info(info)
    assert len(text.encode()) <= watch_module.MODEL_INFO_MAX_BYTES
    assert omitted == ["per-parameter lists", "shapes and layer attributes", "layers more than 1 levels below the model"]
    fitted = json.loads(text)
    assert fitted["total_params"] == fitted["tree"]["params"] == 20000 * 6
    assert [c["params"] for c in fitted["tree"]["children"]] == [600] * 200
    assert all(c["children"] == [] and c["children_omitted"] == 100 for c in fitted["tree"]["children"])


def test_a_tree_deeper_than_the_agent_reads_is_cut() -> None:
    model = nn.Linear(1, 1)
    for _ in range(40):
        model = nn.Sequential(model)
    text, omitted = fit_model_info(describe_model(model))
    depth, node = 0, json.loads(text)["tree"]
    while node["children"]:
        depth, node = depth + 1, node["children"][0]
    assert depth == watch_module.MAX_TREE_DEPTH
    assert node["params"] == 2 and node["children_omitted"] == 1
    assert omitted == ["levels below 32"]


# ---- against a real agent ---------------------------------------------------------------

def model_info(agent, session_id: str, has=lambda body: True) -> dict:
    def ready():
        if agent.status_of(f"/api/model-info?session={session_id}") != 200:
            return None
        body = agent.get_json(f"/api/model-info?session={session_id}")
        return body if has(body) else None

    return agent.wait_for(ready, what="the run's model info")


def test_model_info_end_to_end_with_shapes_after_the_first_forward(agent) -> None:
    cfg = TinyConfig()
    model = GPT(cfg)
    run = trainscope.init("watch-tree", autostart=False)
    wrapped = nn.DataParallel(model)  # watched and trained through a wrapper
    run.watch(wrapped)
    watcher = watch_module._watchers[run]
    body = model_info(agent, run.session_id)
    assert body["total_params"] == sum(p.numel() for p in model.parameters())
    assert body["tree"]["name"] == "GPT"
    assert [c["name"] for c in body["tree"]["children"]] == [
        "transformer.wte", "transformer.wpe", "transformer.drop", "transformer.h.0", "transformer.h.1",
        "transformer.h.2", "transformer.ln_f", "lm_head"]
    assert find(body["tree"], "lm_head")["tied_to"] == "transformer.wte.weight"
    assert "input_shape" not in body["tree"], "no shapes before a forward pass"
    assert len(model._forward_hooks) == 2  # its shapes, and the end of the pass
    assert all(len(m._forward_hooks) == 1 for m in model.modules() if m is not model)

    x, y = tiny_gpt.batch(cfg, batch_size=4)
    wrapped(x, y)
    assert all(len(m._forward_hooks) == 0 for m in model.modules()), "hooks removed after the first forward"
    assert watcher.shapes.handles == []

    body = model_info(agent, run.session_id, has=lambda b: "input_shape" in b["tree"])
    tree = body["tree"]
    assert (tree["input_shape"], tree["output_shape"]) == ([4, 8], [4, 8, 17])
    assert find(tree, "transformer.wpe")["input_shape"] == [8]
    assert find(tree, "transformer.h.2.attn.c_attn")["output_shape"] == [4, 8, 48]
    assert find(tree, "transformer.h.2.mlp.gelu")["input_shape"] == [4, 8, 64]
    run.finish()


def test_watch_of_a_huge_model_warns_and_still_sends_a_tree(agent) -> None:
    run = trainscope.init("watch-huge", autostart=False)
    with pytest.warns(RuntimeWarning, match="too big for the dashboard"):
        run.watch(wide_model(200, 100))
    body = model_info(agent, run.session_id)
    assert body["total_params"] == 120000 and len(body["tree"]["children"]) == 200
    assert body["omitted"].startswith("per-parameter lists")
    run.finish()


def expected_norms(model: nn.Module) -> dict:
    """Each owning module's gradient norm, from .grad directly (float64)."""
    sums: dict = {}
    for name, p in model.named_parameters():
        if p.grad is not None:
            layer = name.rpartition(".")[0]
            sums[layer] = sums.get(layer, 0.0) + float(p.grad.double().pow(2).sum())
    return {f"grad_norm/{layer}": math.sqrt(s) for layer, s in sums.items()}


def train(run, model: nn.Module, cfg: TinyConfig, steps: int, micro_batches: int = 1, start: int = 0) -> dict:
    """SGD steps that log train/loss under `it` after the optimizer step; {it: norms}."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_metric = run.metric("train/loss")
    expected = {}
    for it in range(start, start + steps):
        for k in range(micro_batches):
            x, y = tiny_gpt.batch(cfg, seed=it * micro_batches + k)
            _, loss = model(x, y)
            (loss / micro_batches).backward()
        expected[it] = expected_norms(model)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss_metric.log(it, loss)
    return expected


def grad_series(agent, session_id: str) -> dict:
    names = [m for m in agent.run(session_id)["metrics"] if m.startswith("grad_norm/")]
    return {name: agent.series(session_id, name) for name in names}


def assert_norms_at(series: dict, expected: dict, steps: list) -> None:
    """Every grad-norm series has points at exactly `steps`, each the norm computed directly."""
    assert series
    for name, points in series.items():
        assert [p[0] for p in points] == steps, name
        for step, _, value in points:
            assert value == pytest.approx(expected[step][name], rel=1e-5), (name, step)


def test_grad_norms_every_n_steps_match_the_gradients(agent) -> None:
    cfg = TinyConfig()
    model = GPT(cfg)
    run = trainscope.init("watch-grad-norms", autostart=False)
    run.watch(model, grad_norms_every=3)
    expected = train(run, model, cfg, steps=10)
    assert run.last_step == 9
    watch_module.flush(run)  # step 9's norms were held back for a later backward
    assert run.last_step == 9, "logging the norms does not move the trainer's step"
    run.finish()
    agent.wait_status(run.session_id, "finished")

    series = grad_series(agent, run.session_id)
    layers = set(expected[0])
    assert "grad_norm/lm_head" not in layers  # its only weight is wte's
    assert set(series) == layers and len(layers) == 2 + 3 * 6 + 1  # wte, wpe, 3 x 6 layers, ln_f
    assert_norms_at(series, expected, [0, 3, 6, 9])


def test_grad_norms_with_gradient_accumulation_are_of_the_accumulated_gradient(agent) -> None:
    cfg = TinyConfig(n_layer=1)
    model = GPT(cfg)
    run = trainscope.init("watch-accumulation", autostart=False)
    run.watch(model, grad_norms_every=2)
    expected = train(run, model, cfg, steps=5, micro_batches=3)
    run.finish()  # logs step 4's norms, held back until now
    agent.wait_status(run.session_id, "finished")
    assert_norms_at(grad_series(agent, run.session_id), expected, [0, 2, 4])


def test_watch_again_replaces_the_hooks(agent) -> None:
    cfg = TinyConfig(n_layer=1)
    model = GPT(cfg)
    run = trainscope.init("watch-twice", autostart=False)
    run.watch(model, grad_norms_every=1)
    train(run, model, cfg, steps=2)
    run.watch(model, grad_norms_every=4)  # flushes step 1's norms, then replaces the hooks
    hooks = [len(p._backward_hooks or {}) for p in model.parameters()]
    assert sum(hooks) == 2 + 1 * 6 + 1 and max(hooks) == 1, "one per layer: wte, wpe, 6 in the block, ln_f"
    train(run, model, cfg, steps=6, start=2)  # steps 2..7: a norm at 4 only
    run.finish()
    agent.wait_status(run.session_id, "finished")
    points = grad_series(agent, run.session_id)["grad_norm/transformer.ln_f"]
    assert [p[0] for p in points] == [0, 1, 4]


def test_finish_logs_the_norms_still_held_back(agent) -> None:
    cfg = TinyConfig(n_layer=1)
    model = GPT(cfg)
    run = trainscope.init("watch-finish", autostart=False)
    run.watch(model, grad_norms_every=2)
    train(run, model, cfg, steps=3)
    run.finish()  # step 2 was the last backward: its norms are logged by finish()
    agent.wait_status(run.session_id, "finished")
    points = grad_series(agent, run.session_id)["grad_norm/transformer.wte"]
    assert [p[0] for p in points] == [0, 2]


def test_too_many_layers_are_measured_at_a_coarser_level() -> None:
    from trainscope._grad_norms import layer_groups, metric_name

    model = wide_model(40, 10)  # 400 Linear layers > 128
    groups = layer_groups(model)
    assert sorted(groups) == sorted(f"grad_norm/{i}" for i in range(40))
    assert all(len(ps) == 20 for ps in groups.values())  # 10 weights and 10 biases each
    long = "encoder." * 10 + "attn"
    name = metric_name(long)
    assert len(name.encode()) <= 63 and name.startswith("grad_norm/…") and name.endswith(".encoder.attn")


def test_watch_refuses_what_is_not_a_module(agent) -> None:
    run = trainscope.init("watch-refuses", autostart=False)
    with pytest.raises(TypeError):
        run.watch("model")
    with pytest.raises(ValueError):
        run.watch(GPT(TinyConfig()), grad_norms_every=-1)
    run.finish()


def test_a_rank_that_does_not_log_gets_no_hooks(agent) -> None:
    model = GPT(TinyConfig(n_layer=1))
    run = trainscope.init("watch-rank-1", autostart=False, rank=1, ranks="zero")
    run.watch(model, grad_norms_every=1)
    assert all(not p._backward_hooks for p in model.parameters())
    run.finish()
