"""Pretraining: learning-rate schedule, optimizers, checkpoints and exact resume."""

import math
from pathlib import Path

import pytest
import torch

from sslgeom.augment import StrengthAugmentation
from sslgeom.losses import nt_xent
from sslgeom.models import build_model
from sslgeom.train import build_optimizer, learning_rate, pretrain, save_atomically

torch.set_num_threads(1)

SEED = 0
EPOCHS = 3
BATCH = 8
FINGERPRINT = "tiny-settings"
IMAGES = torch.randint(
    0, 256, (16, 16, 16, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
)


class Interrupted(Exception):
    """Raised by a log callable to simulate a job killed mid-run."""


def simclr_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    return nt_xent(z1, z2, temperature=0.5)


def train(
    checkpoint: Path,
    log=None,
    fingerprint: str = FINGERPRINT,
    loss_fn=simclr_loss,
    batch_size: int = BATCH,
    precision: str = "fp32",
):
    """A fresh seeded model and optimizer pretrained by ``pretrain``: (model, history, log lines).

    Every log line is recorded, then passed to ``log`` if given.
    """
    lines = []

    def record(line: str) -> None:
        lines.append(line)
        if log is not None:
            log(line)

    torch.manual_seed(SEED)
    model = build_model(4, [1, 1], projector_depth=2, projector_hidden_dim=16, projector_out_dim=8)
    optimizer = build_optimizer("sgd", model.parameters(), lr=0.1, weight_decay=1e-4)
    history, _ = pretrain(
        model=model,
        images=IMAGES,
        augment=StrengthAugmentation(1.0, (16, 16)),
        loss_fn=loss_fn,
        optimizer=optimizer,
        epochs=EPOCHS,
        batch_size=batch_size,
        base_lr=0.1,
        warmup_epochs=1,
        checkpoint_path=checkpoint,
        fingerprint=fingerprint,
        precision=precision,
        log=record,
    )
    return model, history, lines


def assert_same_weights(model, reference_model):
    reference = reference_model.state_dict()
    for name, value in model.state_dict().items():
        assert torch.equal(value, reference[name]), name


def losses(history: list[dict]) -> list[tuple[int, float, float]]:
    return [(row["epoch"], row["loss"], row["lr"]) for row in history]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: (model, history)."""
    model, history, _ = train(tmp_path_factory.mktemp("reference") / "checkpoint.pt")
    return model, history


# --- schedule and optimizers ---------------------------------------------------------------


def test_learning_rate_warms_up_linearly_to_base():
    rates = [learning_rate(step, 100, 10, 0.4) for step in range(10)]
    assert rates == pytest.approx([0.04 * (step + 1) for step in range(10)])


def test_learning_rate_decays_by_cosine_to_zero():
    total, warmup, base = 100, 10, 0.4
    assert learning_rate(warmup, total, warmup, base) == pytest.approx(base)
    assert learning_rate(55, total, warmup, base) == pytest.approx(base / 2)
    assert learning_rate(70, total, warmup, base) == pytest.approx(
        base * 0.5 * (1 + math.cos(math.pi * 60 / 90))
    )
    assert learning_rate(total - 1, total, warmup, base) < 1e-3 * base
    assert learning_rate(total, total, warmup, base) == pytest.approx(0.0, abs=1e-15)
    decay = [learning_rate(step, total, warmup, base) for step in range(warmup, total)]
    assert all(a > b for a, b in zip(decay, decay[1:], strict=False))


def test_learning_rate_without_warmup_starts_at_base():
    assert learning_rate(0, 50, 0, 1.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("name", "kind"), [("sgd", torch.optim.SGD), ("adamw", torch.optim.AdamW)])
def test_build_optimizer_by_name(name, kind):
    parameters = [torch.nn.Parameter(torch.zeros(3))]
    optimizer = build_optimizer(name, parameters, lr=0.3, weight_decay=0.01)
    assert isinstance(optimizer, kind)
    assert optimizer.param_groups[0]["lr"] == 0.3
    assert optimizer.param_groups[0]["weight_decay"] == 0.01


def test_build_optimizer_rejects_unknown_name():
    with pytest.raises(ValueError, match="'lars'"):
        build_optimizer("lars", [torch.nn.Parameter(torch.zeros(1))], lr=0.1, weight_decay=0)


# --- pretraining and resume ----------------------------------------------------------------


def test_pretrain_history_has_one_row_per_epoch(reference):
    _, history = reference
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert all(math.isfinite(row["loss"]) and row["views_per_s"] > 0 for row in history)
    assert history[-1]["lr"] < history[0]["lr"]


def test_interrupted_run_resumes_exactly(tmp_path, reference):
    checkpoint = tmp_path / "checkpoint.pt"

    def kill_at_epoch_two(line: str) -> None:
        if line.startswith(f"epoch 2/{EPOCHS}"):
            raise Interrupted

    with pytest.raises(Interrupted):
        train(checkpoint, log=kill_at_epoch_two)
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 1

    model, history, lines = train(checkpoint)
    assert any(line.startswith(f"resuming from {checkpoint} after epoch 1/3") for line in lines)
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["2/3", "3/3"]
    reference_model, reference_history = reference
    assert_same_weights(model, reference_model)
    assert losses(history) == losses(reference_history)


def test_checkpoint_of_other_settings_is_ignored(tmp_path, reference):
    checkpoint = tmp_path / "checkpoint.pt"
    save_atomically({"fingerprint": "other-settings", "epoch": 2}, checkpoint)
    model, history, lines = train(checkpoint)
    assert any("written for other settings" in line for line in lines)
    assert not any(line.startswith("resuming") for line in lines)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert_same_weights(model, reference[0])


def test_truncated_checkpoint_is_ignored(tmp_path, reference):
    checkpoint = tmp_path / "checkpoint.pt"
    save_atomically({"fingerprint": FINGERPRINT, "epoch": 2, "pad": torch.zeros(256)}, checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    model, history, lines = train(checkpoint)
    assert any(line.startswith(f"ignoring unreadable checkpoint {checkpoint}") for line in lines)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert_same_weights(model, reference[0])


def test_nan_loss_raises_naming_the_epoch(tmp_path):
    calls = []

    def nan_in_second_epoch(z1, z2):
        calls.append(None)
        loss = simclr_loss(z1, z2)
        return loss * float("nan") if len(calls) > len(IMAGES) // BATCH else loss

    with pytest.raises(FloatingPointError, match="diverged in epoch 2"):
        train(tmp_path / "checkpoint.pt", loss_fn=nan_in_second_epoch)


def test_batch_larger_than_data_raises(tmp_path):
    with pytest.raises(ValueError, match=f"batch size 32 is larger than the {len(IMAGES)}"):
        train(tmp_path / "checkpoint.pt", batch_size=32)


# --- atomic saving -------------------------------------------------------------------------


def test_save_atomically_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "state.pt"
    save_atomically({"x": torch.arange(4)}, path)
    save_atomically({"x": torch.arange(5)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]
    assert torch.equal(torch.load(path)["x"], torch.arange(5))


def test_failed_save_keeps_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "state.pt"
    save_atomically({"x": torch.arange(4)}, path)
    with pytest.raises(Exception):  # noqa: B017 - whatever pickling raises for a lambda
        save_atomically({"x": lambda: None}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]
    assert torch.equal(torch.load(path)["x"], torch.arange(4))


def test_bf16_runs_the_model_in_bf16_and_keeps_weights_and_loss_in_fp32(tmp_path, monkeypatch):
    conv_output_dtypes = set()
    original_forward = torch.nn.Conv2d.forward

    def recording_forward(self, x):
        output = original_forward(self, x)
        conv_output_dtypes.add(output.dtype)
        return output

    monkeypatch.setattr(torch.nn.Conv2d, "forward", recording_forward)
    model, history, _ = train(tmp_path / "checkpoint.pt", precision="bf16")
    monkeypatch.undo()
    assert conv_output_dtypes == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    _, fp32_history, _ = train(tmp_path / "fp32.pt")
    for bf16_row, fp32_row in zip(history, fp32_history, strict=True):
        assert math.isfinite(bf16_row["loss"])
        assert bf16_row["loss"] == pytest.approx(fp32_row["loss"], rel=0.05)


def test_unknown_precision_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="fp16"):
        train(tmp_path / "checkpoint.pt", precision="fp16")
