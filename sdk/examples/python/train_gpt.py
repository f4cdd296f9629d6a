#!/usr/bin/env python3
"""Trains a character-level GPT with PyTorch and watches it live in Trainscope.

    PYTHONPATH=build/python /usr/bin/python3 sdk/examples/python/train_gpt.py [--max_iters 2000] ...

nanoGPT's loop and flag names, on the same default text and with the same defaults as the
C++ example (sdk/examples/gpt/), logging the same metrics: per iteration ``train/loss``,
``lr``, ``iter_ms``, ``tokens_per_s`` and ``grad_norm`` (before clipping); per evaluation
``val/loss`` and ``train_eval/loss``. ``--no-trainscope`` trains the same way without a run,
to measure what logging costs. Ctrl-C (or SIGTERM) stops after the current step, evaluates
once more and finishes the run cleanly; a second Ctrl-C kills.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch

from char_data import DEFAULT_DATA, CharDataset
from gpt_model import GPT, GPTConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--n_layer", type=int, default=2, help="transformer blocks")
    p.add_argument("--n_head", type=int, default=4, help="attention heads (must divide n_embd)")
    p.add_argument("--n_embd", type=int, default=64, help="embedding width")
    p.add_argument("--block_size", type=int, default=64, help="context length in characters")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout rate")
    p.add_argument("--batch_size", type=int, default=16, help="sequences per iteration")
    p.add_argument("--max_iters", type=int, default=2000, help="training iterations")
    p.add_argument("--eval_interval", type=int, default=250, help="evaluate every this many")
    p.add_argument("--eval_iters", type=int, default=20, help="batches per split per evaluation")
    p.add_argument("--log_interval", type=int, default=10, help="print a line every this many")
    p.add_argument("--learning_rate", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--min_lr", type=float, default=1e-4, help="learning rate after the decay")
    p.add_argument("--warmup_iters", type=int, default=100, help="linear warmup iterations")
    p.add_argument("--lr_decay_iters", type=int, default=-1,
                   help="end of the cosine decay (-1: max_iters)")
    p.add_argument("--weight_decay", type=float, default=0.1, help="AdamW decay (2-D weights)")
    p.add_argument("--beta1", type=float, default=0.9, help="AdamW beta1")
    p.add_argument("--beta2", type=float, default=0.99, help="AdamW beta2")
    p.add_argument("--grad_clip", type=float, default=1.0, help="global norm clip (0: off)")
    p.add_argument("--seed", type=int, default=1337, help="random seed (weights and batches)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    # One thread by default: at this model size a second OpenMP thread gains little and its
    # spin-waiting costs several times that when the agent or anything else shares the cores.
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for torch (0: every core this process may use)")
    p.add_argument("--data", default=DEFAULT_DATA, help="training text file")
    p.add_argument("--name", default="gpt-torch", help="Trainscope run name")
    p.add_argument("--no-trainscope", "--no_log", dest="no_trainscope", action="store_true",
                   help="train without a Trainscope run (to measure logging overhead)")
    args = p.parse_args(argv)

    for flag in ("n_layer", "n_head", "n_embd", "block_size", "batch_size", "eval_interval",
                 "eval_iters", "log_interval"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag}: must be at least 1, got {getattr(args, flag)}")
    for flag in ("max_iters", "warmup_iters", "threads"):
        if getattr(args, flag) < 0:
            p.error(f"--{flag}: must not be negative, got {getattr(args, flag)}")
    if args.n_embd % args.n_head:
        p.error(f"--n_embd: must be a multiple of n_head ({args.n_head}), got {args.n_embd}")
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout: must be in [0, 1), got {args.dropout}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device}: this torch sees no CUDA device")
    return args


def get_lr(it: int, args: argparse.Namespace) -> float:
    """nanoGPT's schedule: linear warmup, cosine decay to min_lr, then min_lr."""
    decay_iters = args.max_iters if args.lr_decay_iters < 0 else args.lr_decay_iters
    if it < args.warmup_iters:
        return args.learning_rate * (it + 1) / (args.warmup_iters + 1)
    if it > decay_iters or decay_iters <= args.warmup_iters:
        return args.min_lr
    ratio = (it - args.warmup_iters) / (decay_iters - args.warmup_iters)
    return args.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (args.learning_rate - args.min_lr)


@torch.no_grad()
def estimate_loss(model: GPT, data: CharDataset, args: argparse.Namespace,
                  generator: torch.Generator) -> dict[str, float]:
    """Mean loss over eval_iters fresh batches of each split, with dropout off."""
    model.eval()
    out = {}
    for split in ("train", "val"):
        losses = torch.zeros(args.eval_iters)
        for k in range(args.eval_iters):
            x, y = data.get_batch(split, args.batch_size, args.block_size, generator)
            _, loss = model(x.to(args.device), y.to(args.device))
            losses[k] = loss
        out[split] = losses.mean().item()
    model.train()
    return out


class RunMetrics:
    """Interned Trainscope handles for what the C++ example logs (its run_logger.cpp)."""

    def __init__(self, run: Any, tokens_per_iter: int) -> None:
        self.tokens_per_iter = tokens_per_iter
        self.loss = run.metric("train/loss")
        self.lr = run.metric("lr")
        self.iter_ms = run.metric("iter_ms")
        self.tokens_per_s = run.metric("tokens_per_s")
        self.grad_norm = run.metric("grad_norm")
        self.val_loss = run.metric("val/loss")
        self.train_eval_loss = run.metric("train_eval/loss")

    def on_step(self, it: int, loss: torch.Tensor, lr: float, ms: float,
                grad_norm: torch.Tensor) -> None:
        # The 0-d tensors go in as they are: no .item(), so a CUDA step is never synchronised.
        self.loss.log(it, loss)
        self.lr.log(it, lr)
        self.iter_ms.log(it, ms)
        self.tokens_per_s.log(it, self.tokens_per_iter * 1000.0 / ms if ms > 0 else 0.0)
        self.grad_norm.log(it, grad_norm)

    def on_eval(self, it: int, losses: dict[str, float]) -> None:
        self.val_loss.log(it, losses["val"])
        self.train_eval_loss.log(it, losses["train"])


@dataclass
class Summary:
    iters: int
    seconds: float
    losses: dict[str, float]
    interrupted: bool

    def line(self) -> str:
        rate = self.iters / self.seconds if self.seconds > 0 else 0.0
        return (f"{'interrupted' if self.interrupted else 'done'} after {self.iters} iterations "
                f"in {self.seconds:.1f} s ({rate:.1f} it/s): train loss "
                f"{self.losses['train']:.4f}, val loss {self.losses['val']:.4f}")


class StopFlag:
    """Set by the first SIGINT or SIGTERM; the second one gets the default action (exit)."""

    def __init__(self) -> None:
        self.set = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: Any) -> None:
        self.set = True
        signal.signal(signum, signal.SIG_DFL)


def train(model: GPT, data: CharDataset, args: argparse.Namespace,
          metrics: RunMetrics | None, stop: StopFlag) -> Summary:
    """nanoGPT's loop: evaluate at 0, every eval_interval and at the end; step; print."""
    optimizer = model.configure_optimizer(args.weight_decay, args.learning_rate,
                                          (args.beta1, args.beta2))
    # Separate streams, so evaluation settings never change the training batches.
    train_gen = torch.Generator().manual_seed(args.seed + 1)
    eval_gen = torch.Generator().manual_seed(args.seed + 2)
    max_norm = args.grad_clip if args.grad_clip > 0 else math.inf  # inf: measure, never clip

    def evaluate(it: int) -> dict[str, float]:
        losses = estimate_loss(model, data, args, eval_gen)
        print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}",
              flush=True)
        if metrics:
            metrics.on_eval(it, losses)
        return losses

    start = time.perf_counter()
    it = 0
    while it < args.max_iters and not stop.set:
        if it % args.eval_interval == 0:
            evaluate(it)
        t0 = time.perf_counter()
        lr = get_lr(it, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = data.get_batch("train", args.batch_size, args.block_size, train_gen)
        _, loss = model(x.to(args.device, non_blocking=True), y.to(args.device, non_blocking=True))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        ms = (time.perf_counter() - t0) * 1000.0
        if metrics:
            metrics.on_step(it, loss.detach(), lr, ms, grad_norm)
        if it % args.log_interval == 0:
            print(f"iter {it}: loss {loss.item():.4f}, time {ms:.2f}ms", flush=True)
        it += 1
    losses = evaluate(it)
    return Summary(it, time.perf_counter() - start, losses, interrupted=stop.set)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        data = CharDataset(args.data)
        data.check_block_size(args.block_size)
    except (OSError, ValueError) as e:
        print(f"train_gpt.py: --data: {e}", file=sys.stderr)
        return 2
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    model = GPT(GPTConfig(vocab_size=data.vocab_size, block_size=args.block_size,
                          n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                          dropout=args.dropout)).to(args.device)
    tokens_per_iter = args.batch_size * args.block_size
    print(f"data: {args.data}, {len(data)} characters, vocab size {data.vocab_size} "
          f"(train {len(data.train)}, val {len(data.val)})")
    print(f"tokens per iteration will be: {tokens_per_iter:,}")
    print(f"number of parameters: {model.num_params() / 1e6:.2f}M")
    print(f"device: {args.device}, threads: {threads}, torch {torch.__version__}", flush=True)
    stop = StopFlag()

    if args.no_trainscope:
        print("trainscope: logging off (--no-trainscope)", flush=True)
        print(train(model, data, args, None, stop).line())
        return 0

    import trainscope  # only needed when logging, so --no-trainscope runs without the package

    config = {k: v for k, v in vars(args).items() if k != "no_trainscope"}
    config.update(vocab_size=data.vocab_size, tokens_per_iter=tokens_per_iter, threads=threads,
                  torch=torch.__version__)
    # The with-block finishes the run; an exception inside marks it "failed" and propagates.
    with trainscope.init(args.name, config=config) as run:
        run.watch(model)
        print(f"trainscope: run '{args.name}', session {run.session_id}", flush=True)
        run.event("start", f"training {args.n_layer}-layer GPT ({model.num_params():,} "
                           f"parameters) on {args.data} with PyTorch on {args.device}")
        summary = train(model, data, args, RunMetrics(run, tokens_per_iter), stop)
        print(summary.line())
        run.event("interrupted" if summary.interrupted else "done", summary.line())
    if run.dropped:
        print(f"trainscope: {run.dropped} records dropped (ring full)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
