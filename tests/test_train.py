"""Pretraining: learning-rate schedule, optimizers, step budgets, snapshots, checkpoints and
exact resume; a run end to end into model.pt and embeddings.npz."""

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO
from torch.optim.optimizer import register_optimizer_step_post_hook

from sslgeom.analyses.geometry import TANGENT_ARRAYS
from sslgeom.data.io import save_dataset
from sslgeom.data.shapes import make_shapes
from sslgeom.embedding.run import embed_run
from sslgeom.models import BACKBONES, Projector, build_model
from sslgeom.models.run_models import model_from_settings, trained_run_models
from sslgeom.training.augment import StrengthAugmentation
from sslgeom.training.loop import (
    build_optimizer,
    learning_rate,
    pretrain,
    save_atomically,
    training_step,
)
from sslgeom.training.losses import nt_xent
from sslgeom.training.methods import BYOL, METHODS, Method, PairwiseLoss, trained_parameters
from sslgeom.training.run import pretrain_run
from sslgeom.training.views import AugmentedViews

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

torch.set_num_threads(1)

SEED = 0
EPOCHS = 3
BATCH = 8
BASE_LR = 0.1
FINGERPRINT = "tiny-settings"
IMAGES = torch.randint(
    0, 256, (16, 16, 16, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
)  # 2 batches per epoch
LARGER_IMAGES = torch.cat([IMAGES, IMAGES[:8]])  # 3 batches per epoch


class Interrupted(Exception):
    """Raised by a log callable to simulate a job killed mid-run."""


def simclr_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    return nt_xent(z1, z2, temperature=0.5)


def pairwise(loss_fn) -> Callable[[torch.nn.Module], Method]:
    """A method factory for ``train``: the pairwise loss ``loss_fn``."""
    return lambda model: PairwiseLoss(loss_fn)


SIMCLR = pairwise(simclr_loss)


def byol_method(total_steps: int) -> Callable[[torch.nn.Module], Method]:
    """A method factory for ``train``: BYOL on ``initial_model``'s 8-d output, its target
    moving fast (τ_base 0.9) so that a wrong target state shows within a few steps."""
    return lambda model: BYOL(model, Projector(8, 2, 16, 8), 0.9, total_steps)


def train(
    checkpoint: Path,
    log=None,
    fingerprint: str = FINGERPRINT,
    method=SIMCLR,
    batch_size: int = BATCH,
    precision: str = "fp32",
    images: torch.Tensor = IMAGES,
    train_steps: int | None = None,
    snapshot_epochs: tuple[int, ...] = (),
    backbone: str = "resnet",
):
    """A fresh seeded model, the method ``method(model)`` and an optimizer of both pretrained by
    ``pretrain``: (model, history, log lines).

    Every log line is recorded, then passed to ``log`` if given.
    """
    lines = []

    def record(line: str) -> None:
        lines.append(line)
        if log is not None:
            log(line)

    model = initial_model(backbone)
    built = method(model)
    optimizer = build_optimizer(
        "sgd", trained_parameters(model, built), lr=BASE_LR, weight_decay=1e-4
    )
    history, _ = pretrain(
        model=model,
        sampler=AugmentedViews(images, StrengthAugmentation(1.0, (16, 16))),
        method=built,
        optimizer=optimizer,
        epochs=EPOCHS,
        train_steps=train_steps,
        batch_size=batch_size,
        base_lr=BASE_LR,
        warmup_epochs=1,
        checkpoint_path=checkpoint,
        fingerprint=fingerprint,
        snapshot_epochs=snapshot_epochs,
        precision=precision,
        log=record,
    )
    return model, history, lines


BACKBONE_SETTINGS = {
    "resnet": {"encoder_width": 4, "encoder_blocks": [1, 1]},
    "vit": {"vit_patch_size": 4, "vit_depth": 2, "vit_width": 8, "vit_heads": 2},
    "mlp": {"mlp_dims": [32, 8]},
}


def initial_model(backbone: str = "resnet") -> torch.nn.Module:
    """The model ``train`` starts from: the same weights on every call."""
    torch.manual_seed(SEED)
    return build_model(
        (16, 16, 3),
        projector_depth=2,
        projector_hidden_dim=16,
        projector_out_dim=8,
        backbone=backbone,
        **BACKBONE_SETTINGS[backbone],
    )


def assert_same_weights(model, reference_model):
    reference = reference_model.state_dict()
    for name, value in model.state_dict().items():
        assert torch.equal(value, reference[name]), name


def losses(history: list[dict]) -> list[tuple[int, float, float]]:
    return [(row["epoch"], row["loss"], row["lr"]) for row in history]


def kill_at_epoch_two(line: str) -> None:
    if line.startswith("epoch 2/"):
        raise Interrupted


@pytest.fixture
def step_lrs():
    """The learning rate of each optimizer step taken during the test, in order."""
    rates = []
    handle = register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: rates.append(optimizer.param_groups[0]["lr"])
    )
    yield rates
    handle.remove()


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
    assert all(row["views_per_s"] > 0 for row in history)
    assert history[-1]["lr"] < history[0]["lr"]


@pytest.mark.parametrize("backbone", BACKBONE_SETTINGS)
@pytest.mark.parametrize(
    ("train_steps", "steps_after_resume"),
    [(None, 2 + 2), (5, 2 + 1)],
    ids=["epochs", "train_steps-ending-in-a-cut-short-epoch"],
)
def test_interrupted_run_resumes_exactly(
    tmp_path, step_lrs, train_steps, steps_after_resume, backbone
):
    reference_model, reference_history, _ = train(
        tmp_path / "reference.pt", train_steps=train_steps, backbone=backbone
    )
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(Interrupted):
        train(checkpoint, log=kill_at_epoch_two, train_steps=train_steps, backbone=backbone)
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1

    steps_before_resume = len(step_lrs)
    model, history, lines = train(checkpoint, train_steps=train_steps, backbone=backbone)
    assert len(step_lrs) - steps_before_resume == steps_after_resume
    assert any(line.startswith(f"resuming from {checkpoint} after epoch 1/3") for line in lines)
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["2/3", "3/3"]
    assert_same_weights(model, reference_model)
    assert losses(history) == losses(reference_history)


def test_interrupted_byol_run_resumes_exactly_with_its_target_network(tmp_path):
    """BYOL's predictor and EMA target are training state: a run killed after epoch 1 and
    resumed ends bit-identical to an uninterrupted one, target included."""
    total_steps = EPOCHS * len(IMAGES) // BATCH
    reference_model, reference_history, _ = train(
        tmp_path / "reference.pt", method=byol_method(total_steps)
    )
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(Interrupted):
        train(checkpoint, log=kill_at_epoch_two, method=byol_method(total_steps))
    model, history, _ = train(checkpoint, method=byol_method(total_steps))
    assert_same_weights(model, reference_model)
    assert losses(history) == losses(reference_history)
    resumed = torch.load(checkpoint, weights_only=False)["method"]
    uninterrupted = torch.load(tmp_path / "reference.pt", weights_only=False)["method"]
    assert resumed.keys() == uninterrupted.keys()
    assert any(name.startswith("target.") for name in resumed)
    assert any(name.startswith("predictor.") for name in resumed)
    for name, value in resumed.items():
        assert torch.equal(value, uninterrupted[name]), name
    # The target is neither the online network nor left at its initial copy of it.
    initial = initial_model().state_dict()
    online = model.state_dict()
    moved = [name for name in online if online[name].is_floating_point()]
    assert all(not torch.equal(resumed[f"target.{name}"], online[name]) for name in moved)
    assert all(not torch.equal(resumed[f"target.{name}"], initial[name]) for name in moved)


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
        train(tmp_path / "checkpoint.pt", method=pairwise(nan_in_second_epoch))


def test_nan_loss_names_the_first_batch_whose_loss_is_not_finite(tmp_path):
    calls = []

    def nan_from_second_batch_of_second_epoch(z1, z2):
        calls.append(None)
        loss = simclr_loss(z1, z2)
        batches_per_epoch = len(IMAGES) // BATCH
        return loss * float("nan") if len(calls) >= batches_per_epoch + 2 else loss

    with pytest.raises(FloatingPointError, match="epoch 2: loss is nan at batch 1$"):
        train(tmp_path / "checkpoint.pt", method=pairwise(nan_from_second_batch_of_second_epoch))


def test_training_step_reads_nothing_back_from_the_device(monkeypatch):
    """On a GPU a read of a tensor's value waits for the step's work; the step makes none."""
    model = initial_model()
    optimizer = build_optimizer("sgd", model.parameters(), lr=BASE_LR, weight_decay=1e-4)
    views = AugmentedViews(IMAGES, StrengthAugmentation(1.0, (16, 16))).pair(torch.arange(BATCH))
    reads = []
    for method in ("__bool__", "__float__", "__int__", "item", "tolist", "numpy"):
        original = getattr(torch.Tensor, method)

        def recording(self, *args, _original=original, _method=method):
            reads.append(_method)
            return _original(self, *args)

        monkeypatch.setattr(torch.Tensor, method, recording)
    loss = training_step(model, views, PairwiseLoss(simclr_loss), optimizer)
    monkeypatch.undo()
    assert reads == []
    assert torch.isfinite(loss)


def test_batch_larger_than_data_raises(tmp_path):
    with pytest.raises(ValueError, match=f"batch size 32 is larger than the {len(IMAGES)}"):
        train(tmp_path / "checkpoint.pt", batch_size=32)


# --- a step budget: train_steps --------------------------------------------------------------


@pytest.mark.parametrize(
    ("train_steps", "epochs"), [(4, 2), (5, 3)], ids=["whole-epochs", "last-epoch-cut-short"]
)
def test_train_steps_is_the_number_of_optimizer_steps(tmp_path, step_lrs, train_steps, epochs):
    _, history, _ = train(tmp_path / "checkpoint.pt", train_steps=train_steps)
    assert len(step_lrs) == train_steps
    assert [row["epoch"] for row in history] == list(range(1, epochs + 1))


def test_train_steps_is_the_same_for_two_training_set_sizes(tmp_path, step_lrs):
    _, small_history, _ = train(tmp_path / "small.pt", train_steps=5)
    small_steps = len(step_lrs)
    _, large_history, _ = train(tmp_path / "large.pt", images=LARGER_IMAGES, train_steps=5)
    assert (small_steps, len(step_lrs) - small_steps) == (5, 5)
    assert (len(small_history), len(large_history)) == (3, 2)


def test_learning_rate_schedule_spans_the_train_steps(tmp_path, step_lrs):
    _, history, _ = train(tmp_path / "checkpoint.pt", train_steps=5)
    warmup = [BASE_LR / 2, BASE_LR]  # warmup_epochs=1: the 2 steps of one epoch
    decay = [BASE_LR * 0.5 * (1 + math.cos(math.pi * k / 3)) for k in range(3)]
    assert step_lrs == pytest.approx(warmup + decay)
    assert history[-1]["lr"] == pytest.approx(decay[-1])


def test_warmup_longer_than_the_train_steps_ends_at_the_last_step(tmp_path, step_lrs):
    train(tmp_path / "checkpoint.pt", images=LARGER_IMAGES, train_steps=2)
    assert step_lrs == pytest.approx([BASE_LR / 2, BASE_LR])


def test_views_per_second_count_the_steps_of_a_cut_short_epoch(tmp_path, monkeypatch):
    clock = iter(range(100))  # every epoch takes one second
    monkeypatch.setattr(
        "sslgeom.training.loop.time", SimpleNamespace(perf_counter=lambda: next(clock))
    )
    _, history, _ = train(tmp_path / "checkpoint.pt", train_steps=5)
    two_views = 2 * BATCH
    assert [row["views_per_s"] for row in history] == [2 * two_views, 2 * two_views, two_views]


# --- snapshots -----------------------------------------------------------------------------


def test_epoch_zero_snapshot_is_the_untrained_model_and_survives_a_resume(tmp_path):
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(Interrupted):
        train(checkpoint, log=kill_at_epoch_two, snapshot_epochs=(0, 1))
    model, _, _ = train(checkpoint, snapshot_epochs=(0, 1))
    snapshots = torch.load(checkpoint, weights_only=True)["snapshots"]
    assert sorted(snapshots) == [0, 1]
    for name, value in initial_model().state_dict().items():
        assert torch.equal(snapshots[0][name], value), name
    for name, parameter in model.named_parameters():
        assert not torch.equal(snapshots[0][name], parameter.detach()), name


def test_snapshot_at_the_last_epoch_of_the_train_steps_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"snapshot epoch 3 is not before the last epoch \(3\)"):
        train(tmp_path / "checkpoint.pt", train_steps=5, snapshot_epochs=(3,))


# --- a run end to end ----------------------------------------------------------------------


def run_settings(**overrides) -> dict:
    """The settings of a tiny shapes run: the run schema's defaults and ``overrides``."""
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "run.schema.yaml").read_text())
    defaults = {
        key: value["default"] for key, value in schema["properties"].items() if "default" in value
    }
    tiny = {
        "dataset": "shapes",
        "strength": 0.5,
        "seed": SEED,
        "batch_size": 16,
        "encoder_width": 4,
        "encoder_blocks": [1, 1],
        "projector_depth": 2,
        "projector_hidden_dim": 16,
        "projector_out_dim": 8,
    }
    return {**defaults, **tiny, **overrides}


def test_train_steps_run_saves_its_epochs_and_scaled_untrained_snapshot(tmp_path):
    dataset = tmp_path / "shapes.npz"
    save_dataset(make_shapes(n_train=64, n_test=16, seed=0, size=16), dataset)
    # 64 images in batches of 16: 4 steps per epoch, so 5 steps take 2 epochs
    settings = run_settings(train_steps=5, snapshot_epochs=[0, 1], init_scale=0.5)
    model_path, log_path = tmp_path / "model.pt", tmp_path / "train_log.csv"
    pretrain_run("tiny", settings, str(dataset), model_path, log_path, tmp_path / "c.pt", "cpu", 1)
    state = torch.load(model_path, weights_only=True)
    assert state["epoch"] == 2
    assert len(log_path.read_text().splitlines()) == 1 + 2

    torch.manual_seed(SEED)
    untrained = model_from_settings(settings, (16, 16, 3)).state_dict()
    for name, value in untrained.items():
        scaled = value * 0.5 if value.dim() > 1 else value  # convolution and linear weights
        assert torch.equal(state["snapshots"][0][name], scaled), name

    embeddings_path = tmp_path / "embeddings.npz"
    options = {
        "batch_size": 64,
        "n_view_images": 8,
        "n_views": 2,
        "reference_strength": 0.5,
        "view_seed": 0,
    }
    models = trained_run_models(str(model_path), torch.device("cpu"))
    embed_run(models, str(dataset), str(embeddings_path), options, 32)
    with np.load(embeddings_path) as embeddings:
        assert embeddings["final_epoch"].dtype == np.int64
        assert embeddings["final_epoch"].shape == ()
        assert embeddings["final_epoch"] == 2
        assert embeddings["snapshot_epochs"].tolist() == [0, 1]
        assert embeddings["epoch0_test_encoder"].shape[0] == 16


# The CPU kernels of a machine with AVX2 and no AVX-512, as oneDNN and ATen pick them.
AVX2_KERNELS = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}

PRETRAIN_FROM_JSON = """
import json, sys
from pathlib import Path
from sslgeom.training.run import pretrain_run
folder = Path(sys.argv[1])
settings = json.loads((folder / "settings.json").read_text())
pretrain_run("tiny", settings, str(folder / "shapes.npz"), folder / "model.pt",
             folder / "train_log.csv", folder / "checkpoint.pt", "cpu", 1)
"""


def test_tiny_resnet_trains_with_the_kernels_of_an_avx2_cpu(tmp_path):
    """Width 4 gives the ResNet a strided 1×1 shortcut on 4 channels, whose channels-last
    backward crashed the process (SIGSEGV or SIGABRT) in oneDNN's AVX2 kernel; trained in a child
    process so that a crash fails this test alone."""
    save_dataset(make_shapes(n_train=64, n_test=16, seed=0, size=16), tmp_path / "shapes.npz")
    (tmp_path / "settings.json").write_text(json.dumps(run_settings(train_steps=8)))
    result = subprocess.run(
        [sys.executable, "-c", PRETRAIN_FROM_JSON, str(tmp_path)],
        env=os.environ | AVX2_KERNELS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr[-2000:]}"
    assert torch.load(tmp_path / "model.pt", weights_only=True)["epoch"] == 2


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
        assert bf16_row["loss"] == pytest.approx(fp32_row["loss"], rel=0.05)


def test_unknown_precision_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="fp16"):
        train(tmp_path / "checkpoint.pt", precision="fp16")


# --- every backbone with every method ------------------------------------------------------

GEOMETRY_EXTRACTION = {
    "n_images": 4,
    "tangent_strength": 0.2,
    "n_augmentations": 2,
    "latent_epsilon": 0.02,
    "n_neighbors": 3,
    "span_variance": 0.99,
    "seed": 0,
    "batch_size": 8,
}


@pytest.fixture(scope="module")
def tiny_shapes(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "shapes.npz"
    save_dataset(make_shapes(n_train=32, n_test=8, seed=0, size=16), path)
    return path


@pytest.mark.parametrize("backbone", BACKBONES)
@pytest.mark.parametrize("method", METHODS)
def test_every_backbone_trains_embeds_and_differentiates_with_every_method(
    tmp_path, tiny_shapes, backbone, method
):
    """Two training steps, then the embedding with the geometry extraction: the stored encoder
    outputs are the saved encoder's on the test images and the stored Jacobians autograd's."""
    settings = run_settings(
        backbone=backbone, method=method, train_steps=2, vit_patch_size=8, vit_depth=1,
        vit_width=8, vit_heads=2, mlp_dims=[16, 8],
    )  # fmt: skip
    model_path = tmp_path / "model.pt"
    pretrain_run(
        "tiny", settings, str(tiny_shapes), model_path, tmp_path / "log.csv", tmp_path / "c.pt",
        "cpu", 1,
    )  # fmt: skip
    torch.manual_seed(SEED)
    untrained = model_from_settings(settings, (16, 16, 3)).state_dict()
    trained = torch.load(model_path, weights_only=True)["model"]
    assert any(not torch.equal(trained[name], untrained[name]) for name in untrained)

    models = trained_run_models(str(model_path), torch.device("cpu"))
    embeddings_path = tmp_path / "embeddings.npz"
    options = {"batch_size": 8, "n_view_images": 4, "n_views": 2, "reference_strength": 0.5}
    embed_run(
        models, str(tiny_shapes), str(embeddings_path), options | {"view_seed": 0}, 8,
        GEOMETRY_EXTRACTION,
    )  # fmt: skip
    images = torch.from_numpy(make_shapes(n_train=32, n_test=8, seed=0, size=16).test_images)
    model = models.final
    with torch.no_grad():
        encoded = model.encoder(images.permute(0, 3, 1, 2).float() / 255)
    with np.load(embeddings_path) as stored:
        assert stored["layers"].tolist() == ["encoder", "proj1", "projector"]
        np.testing.assert_allclose(stored["test_encoder"], encoded.numpy(), rtol=1e-5, atol=1e-6)
        jacobians = stored[TANGENT_ARRAYS["jacobians"]]
    expected = torch.autograd.functional.jacobian(model.projector, encoded[:1])[0, :, 0]
    np.testing.assert_allclose(jacobians[0], expected.numpy(), rtol=1e-4, atol=1e-6)
