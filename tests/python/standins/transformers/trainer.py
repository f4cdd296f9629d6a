"""Stand-in for transformers.Trainer: ``train`` and ``evaluate`` with the real Trainer's
callback events, logs and steps, in its order (``_inner_training_loop``,
``_maybe_log_save_evaluate``, ``log``). One process, AdamW with a linear decay, gradient
clipping; no gradient accumulation, mixed precision, checkpoints or devices."""

import math
import time
from typing import Any, NamedTuple, Optional

import torch
from torch.utils.data import DataLoader

from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback, TrainerControl, TrainerState
from transformers.training_args import TrainingArguments


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: dict


class Trainer:
    """Trains `model`, a torch Module whose forward(**batch) returns a dict with "loss"."""

    def __init__(
        self,
        model: torch.nn.Module,
        args: Optional[TrainingArguments] = None,
        train_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: Any = None,
        callbacks: Optional[list] = None,
    ) -> None:
        self.model = model
        self.args = args or TrainingArguments()
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        self.optimizer = None
        self.lr_scheduler = None
        self.callback_handler = CallbackHandler(
            [DefaultFlowCallback] + list(callbacks or []), model, processing_class, None, None
        )
        self.state = self._new_state()
        self.control = TrainerControl()
        self.control = self.callback_handler.on_init_end(self.args, self.state, self.control)

    def _new_state(self) -> TrainerState:
        return TrainerState(
            is_local_process_zero=self.args.local_process_index == 0,
            is_world_process_zero=self.args.process_index == 0,
        )

    def compute_loss(self, model: torch.nn.Module, inputs: dict) -> torch.Tensor:
        outputs = model(**inputs)
        return outputs["loss"] if isinstance(outputs, dict) else outputs[0]

    def _get_learning_rate(self) -> float:
        return self.lr_scheduler.get_last_lr()[0]

    def train(self) -> TrainOutput:
        args, model = self.args, self.model
        torch.manual_seed(args.seed)
        loader = DataLoader(self.train_dataset, batch_size=args.per_device_train_batch_size, shuffle=True)
        steps_per_epoch = len(loader)
        max_steps = args.max_steps if args.max_steps > 0 else math.ceil(args.num_train_epochs * steps_per_epoch)
        num_train_epochs = math.ceil(max_steps / steps_per_epoch)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: max(0.0, (max_steps - step) / max_steps)
        )
        self.callback_handler.optimizer = self.optimizer
        self.callback_handler.lr_scheduler = self.lr_scheduler
        self.callback_handler.train_dataloader = loader

        self.state = self._new_state()
        self.state.max_steps = max_steps
        self.state.num_train_epochs = num_train_epochs
        self.state.logging_steps = args.logging_steps
        self.state.eval_steps = args.eval_steps or args.logging_steps
        self.state.train_batch_size = args.per_device_train_batch_size
        tr_loss = torch.tensor(0.0)
        self._total_loss_scalar = 0.0
        self._globalstep_last_logged = 0
        start_time = time.time()
        model.zero_grad()
        self.control = self.callback_handler.on_train_begin(args, self.state, self.control)

        grad_norm = None
        for epoch in range(num_train_epochs):
            self.control = self.callback_handler.on_epoch_begin(args, self.state, self.control)
            for step, inputs in enumerate(loader):
                self.control = self.callback_handler.on_step_begin(args, self.state, self.control)
                model.train()
                loss = self.compute_loss(model, inputs)
                loss.backward()
                tr_loss += loss.detach()
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                self.control = self.callback_handler.on_pre_optimizer_step(args, self.state, self.control)
                self.optimizer.step()
                self.control = self.callback_handler.on_optimizer_step(args, self.state, self.control)
                self.lr_scheduler.step()
                model.zero_grad()
                self.state.global_step += 1
                self.state.epoch = epoch + (step + 1) / steps_per_epoch
                self.control = self.callback_handler.on_step_end(args, self.state, self.control)
                self._maybe_log_save_evaluate(tr_loss, grad_norm)
                if self.control.should_epoch_stop or self.control.should_training_stop:
                    break
            self.control = self.callback_handler.on_epoch_end(args, self.state, self.control)
            self._maybe_log_save_evaluate(tr_loss, grad_norm)
            if self.control.should_training_stop:
                break

        self._total_loss_scalar += tr_loss.item()
        train_loss = self._total_loss_scalar / max(self.state.global_step, 0.001)
        runtime = time.time() - start_time
        metrics = {
            "train_runtime": round(runtime, 4),
            "train_samples_per_second": round(max_steps * args.per_device_train_batch_size / runtime, 3),
            "train_steps_per_second": round(max_steps / runtime, 3),
            "total_flos": float(self.state.total_flos),
            "train_loss": train_loss,
        }
        self.log(metrics)
        self.control = self.callback_handler.on_train_end(args, self.state, self.control)
        return TrainOutput(self.state.global_step, train_loss, metrics)

    def _maybe_log_save_evaluate(self, tr_loss: torch.Tensor, grad_norm: Optional[torch.Tensor]) -> None:
        if self.control.should_log and self.state.global_step > self._globalstep_last_logged:
            tr_loss_scalar = tr_loss.item()
            tr_loss -= tr_loss  # reset in place: the loop keeps accumulating into it
            logs = {"loss": round(tr_loss_scalar / (self.state.global_step - self._globalstep_last_logged), 4)}
            if grad_norm is not None:
                logs["grad_norm"] = grad_norm.item()
            logs["learning_rate"] = self._get_learning_rate()
            self._total_loss_scalar += tr_loss_scalar
            self._globalstep_last_logged = self.state.global_step
            self.log(logs)
        if self.control.should_evaluate:
            self.evaluate()

    def evaluate(self, eval_dataset: Any = None, metric_key_prefix: str = "eval") -> dict:
        """Mean loss over the evaluation set, logged as ``<prefix>_loss`` and friends."""
        loader = DataLoader(eval_dataset or self.eval_dataset, batch_size=self.args.per_device_eval_batch_size)
        self.callback_handler.eval_dataloader = loader
        start_time = time.time()
        self.model.eval()
        losses = []
        with torch.no_grad():
            for inputs in loader:
                losses.append(self.compute_loss(self.model, inputs).item())
                self.control = self.callback_handler.on_prediction_step(self.args, self.state, self.control)
        runtime = time.time() - start_time
        metrics = {
            f"{metric_key_prefix}_loss": sum(losses) / len(losses),
            f"{metric_key_prefix}_runtime": round(runtime, 4),
            f"{metric_key_prefix}_samples_per_second": round(len(loader.dataset) / runtime, 3),
            f"{metric_key_prefix}_steps_per_second": round(len(loader) / runtime, 3),
        }
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

    def log(self, logs: dict) -> None:
        """Hand `logs` (plus the epoch) to the callbacks' on_log and keep them in log_history."""
        if self.state.epoch is not None:
            logs["epoch"] = self.state.epoch
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self.control = self.callback_handler.on_log(self.args, self.state, self.control, logs)
