"""Self-supervised pretraining with per-epoch atomic checkpoints and exact resume.

A checkpoint holds the model, optimizer and RNG state at the end of an epoch,
the per-epoch history and a fingerprint of the settings, so a job killed at
any point restarts from its last finished epoch and ends with the same weights
as an uninterrupted run (on the same machine and thread count; on a GPU, with deterministic
kernels: :func:`sslgeom.device.configure_kernels`).
"""

import hashlib
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from sslgeom.io.artifacts import write_atomically
from sslgeom.training.length import training_length
from sslgeom.training.methods import Method
from sslgeom.training.views import ViewSampler

AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16}  # per run setting `precision`


def settings_fingerprint(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def training_subset(n_images: int, size: int | None) -> np.ndarray:
    """Sorted indices of ``size`` training images (all when None).

    The subset depends on nothing but the two numbers, so every run of a size trains on the
    same images, and a smaller subset lies inside every larger one.
    """
    if size is None:
        return np.arange(n_images)
    return np.sort(np.random.default_rng(0).permutation(n_images)[:size])


def build_optimizer(name: str, parameters, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; known: ['adamw', 'sgd']")


def learning_rate(step: int, total_steps: int, warmup_steps: int, base_lr: float) -> float:
    """Linear warm-up to ``base_lr``, then cosine decay to zero."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def save_atomically(state: dict, path: Path) -> None:
    write_atomically(path, lambda file: torch.save(state, file))


def get_rng_state() -> dict:
    state = {"cpu": torch.random.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.random.set_rng_state(state["cpu"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def load_checkpoint(path: Path, fingerprint: str, log=print) -> dict | None:
    """The checkpoint at ``path`` if it belongs to these settings, else None (unpickled with
    ``weights_only``: the checkpoint holds tensors and plain containers only)."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a torn or foreign file: start over rather than fail
        log(f"ignoring unreadable checkpoint {path}: {err}")
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != fingerprint:
        log(f"ignoring checkpoint {path}: it was written for other settings")
        return None
    return state


def training_step(
    model: nn.Module,
    views: tuple[Tensor, Tensor],
    method: Method,
    optimizer: torch.optim.Optimizer,
    precision: str = "fp32",
    indices: Tensor | None = None,
) -> Tensor:
    """One optimizer step on a batch of positive pairs (two batches of model inputs, row i of
    each a view of example ``indices[i]``) with the run's ``method``; the loss.

    With ``precision="bf16"`` the method's forward pass runs under bf16 autocast; the loss, the
    gradients' accumulation into the fp32 weights and the optimizer step stay in fp32. Nothing
    is read back to the host (no check of the loss either, which on a GPU would wait for the
    step to finish): :func:`train_epoch` checks the losses once per epoch.
    """
    if precision not in AUTOCAST_DTYPES:
        raise ValueError(f"unknown precision {precision!r}; known: {sorted(AUTOCAST_DTYPES)}")
    autocast_dtype = AUTOCAST_DTYPES[precision]
    both = torch.cat(views)
    with torch.autocast(both.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        outputs = method.outputs(model, both)
    loss = method.loss(tuple(output.float() for output in outputs), indices)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train_epoch(
    model: nn.Module,
    sampler: ViewSampler,
    method: Method,
    optimizer: torch.optim.Optimizer,
    lr_of_step: Callable[[int], float],
    first_step: int,
    batch_size: int,
    precision: str = "fp32",
    n_batches: int | None = None,
) -> float:
    """One pass over the sampler's examples in shuffled full batches of
    :func:`training_step`, each followed by the method's update after the step, stopped after
    ``n_batches`` batches if given; the mean loss.

    The losses stay on the sampler's device until the epoch ends, when their sum is read once;
    if a loss was not finite, FloatingPointError names the first such batch (the steps after it
    have run too, so the model is then unusable).
    """
    model.train()
    method.train()
    order = torch.randperm(len(sampler)).to(sampler.device)
    if n_batches is None:
        n_batches = len(sampler) // batch_size
    losses = []
    for index in range(n_batches):
        step = first_step + index
        for group in optimizer.param_groups:
            group["lr"] = lr_of_step(step)
        batch = order[index * batch_size : (index + 1) * batch_size]
        views = sampler.pair(batch)
        losses.append(training_step(model, views, method, optimizer, precision, batch))
        method.after_step(model, step)
    mean = sum(losses).item() / n_batches  # summed in step order, on the device
    if not math.isfinite(mean):
        raise FloatingPointError(first_nonfinite_loss(losses))
    return mean


def first_nonfinite_loss(losses: list[Tensor]) -> str:
    """Which of the steps' losses (scalars) is the first that is not finite, and its value."""
    stacked = torch.stack(losses)
    index = int(torch.nonzero(~torch.isfinite(stacked))[0])
    return f"loss is {stacked[index].item()} at batch {index}"


def weights_copy(model: nn.Module) -> dict:
    """A CPU copy of the model's state."""
    return {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}


def pretrain(
    model: nn.Module,
    sampler: ViewSampler,
    method: Method,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int,
    base_lr: float,
    warmup_epochs: int,
    checkpoint_path: Path,
    fingerprint: str,
    snapshot_epochs: tuple[int, ...] = (),
    precision: str = "fp32",
    log=print,
    train_steps: int | None = None,
) -> tuple[list[dict], dict[int, dict]]:
    """Train on the sampler's positive pairs with ``method`` for ``epochs`` epochs, or for
    exactly ``train_steps`` optimizer steps when given (full epochs, the last one cut short),
    resuming from ``checkpoint_path``.

    The learning rate warms up over ``warmup_epochs`` epochs (at most the whole run), then
    decays to zero at the end of the run. Returns the epoch history and the snapshots: epoch →
    a CPU copy of the model's state after that epoch, for each of ``snapshot_epochs``, where
    epoch 0 is the model as passed in, before any step. The RNG must be seeded by the caller;
    its state is saved and restored with each checkpoint, and so are the method's state (its
    predictor, target network or head) and the snapshots taken so far.
    """
    if len(sampler) < batch_size:
        raise ValueError(f"batch size {batch_size} is larger than the {len(sampler)} examples")
    length = training_length(len(sampler), batch_size, epochs, train_steps)
    late = [epoch for epoch in snapshot_epochs if epoch >= length.epochs]
    if late:
        raise ValueError(
            f"snapshot epoch {late[0]} is not before the last epoch ({length.epochs}), which is "
            "the final model itself"
        )
    warmup_steps = min(warmup_epochs * length.steps_per_epoch, length.total_steps)

    def lr_of_step(step: int) -> float:
        return learning_rate(step, length.total_steps, warmup_steps, base_lr)

    history, snapshots, start = [], {}, 0
    state = load_checkpoint(checkpoint_path, fingerprint, log)
    if state is not None:
        model.load_state_dict(state["model"])
        method.load_state_dict(state["method"])
        optimizer.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
        history, snapshots, start = state["history"], state["snapshots"], state["epoch"]
        log(f"resuming from {checkpoint_path} after epoch {start}/{length.epochs}")
    elif 0 in snapshot_epochs:
        snapshots[0] = weights_copy(model)
    for epoch in range(start + 1, length.epochs + 1):
        steps = length.steps_in_epoch(epoch)
        started = time.perf_counter()
        try:
            loss = train_epoch(
                model,
                sampler,
                method,
                optimizer,
                lr_of_step,
                (epoch - 1) * length.steps_per_epoch,
                batch_size,
                precision,
                steps,
            )
        except FloatingPointError as err:
            raise FloatingPointError(f"training diverged in epoch {epoch}: {err}") from err
        seconds = time.perf_counter() - started
        row = {
            "epoch": epoch,
            "loss": loss,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": seconds,
            "views_per_s": 2 * steps * batch_size / seconds,
        }
        history.append(row)
        log(
            f"epoch {epoch}/{length.epochs}  loss {loss:.4f}  lr {row['lr']:.2e}  "
            f"{seconds:.1f} s  {row['views_per_s']:.0f} views/s"
        )
        if epoch in snapshot_epochs:
            snapshots[epoch] = weights_copy(model)
        save_atomically(
            {
                "model": model.state_dict(),
                "method": method.state_dict(),
                "optimizer": optimizer.state_dict(),
                "rng": get_rng_state(),
                "epoch": epoch,
                "history": history,
                "snapshots": snapshots,
                "fingerprint": fingerprint,
            },
            checkpoint_path,
        )
    return history, snapshots
