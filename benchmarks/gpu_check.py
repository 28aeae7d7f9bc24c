"""The GPU check: the CUDA path against the CPU, exact resume, and what a paper-scale run costs.

    python benchmarks/gpu_check.py [--device cuda] [--quick] [--json PATH] [--skip PART ...]

Parts (``--skip`` leaves some out):

1. fixture: the shapes runs of tests/fixtures/tiny_config.yaml (not its mnist5k runs: see
   Sizes) end to end through the library (pretrain_run, embed_run with the geometry
   extraction, analyze_run, geometry_run), first on the CPU, then on the device in two
   processes side by side: with TF32 off (checked) and with the device's default arithmetic
   (cuDNN convolutions in TF32; reported). Each device process also embeds and analyses the
   CPU's trained models. Checked: every epoch's training loss within LOSS_TOLERANCE of the
   CPU's, and every embeddings.npz array of the CPU's weights within EMBEDDING_TOLERANCE
   (relative norm of the difference): margins over what float32's different order of sums on
   two devices gives, which a wrong kernel, augmentation or misplaced tensor exceeds.
   Reported: every metric and geometry row, of the same weights against STRICT and of each
   device's own training against TF32_BAND; not checked, because on the fixture's 2-epoch
   models rounding alone moves some of them far (see compare_with_cpu). With ``--device cpu``
   the device is a second CPU process, and every difference is 0.
2. resume: a training job (the measured model, below) is killed with SIGKILL after its second
   epoch and started again, which resumes from its checkpoint; its weights must equal those of
   an uninterrupted job bit for bit with ``compute.deterministic`` on. On a GPU the same is
   reported without it (cuDNN autotuning).
3. throughput: views per second of training epochs of the paper model (configs/cifar10_paper.yaml:
   ResNet-18, 2048-2048-128 projector, SimCLR, AdamW, batch 512, 32×32 images, augmentation
   strength 0.5): the project's ``train_epoch`` (uint8 images resident on the device, each view
   augmented there as one batch, the loss read once per epoch) in fp32 and bf16 autocast,
   channels-last and NCHW, and compiled (``torch.compile``); against the usual recipe
   (torchvision ``transforms.v2`` on PIL images one at a time in a ``Dataset``, a DataLoader
   worker per core, pinned memory, fp32, NCHW, eager; where torchvision is missing, the same
   policy in kornia one image at a time). cuDNN autotunes for all of them. Also: host
   synchronisations per step (CUDA's sync debug mode), the save time of a checkpoint, FLOPs of
   a step (``torch.utils.flop_counter``) over its time as a share of the bf16 matrix-product
   rate measured in the same process, and the GPU-hours of training each paper config (every
   run's steps times the measured time per view at its image size, plus a checkpoint save per
   epoch), as configured and with ``precision: bf16``; embedding and analyses are not counted.
4. breakdown: the step's parts timed alone: the augmentation of a batch's two views (as run,
   and each of its operations alone) and the model's training step on fixed views in fp32,
   bf16 and compiled, with its share of the bf16 peak.

``--quick`` and ``--device cpu`` use small sizes; on the CPU the default experiment's model
(config.yaml) replaces the paper model, so the projections are not the paper model's there.
Prints each measurement and a summary; ``--json`` writes all of it. Exits 1 if a check fails;
the targets (3× the usual recipe, 40% of the bf16 peak) are reported, not checked.
"""

import argparse
import csv
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from training_setup import REPO, STRENGTH, config_runs, training_parts  # noqa: E402

from sslgeom.analyses.geometry import EXTRACTION_OPTIONS, MEASUREMENT_OPTIONS, geometry_run  # noqa: E402
from sslgeom.analyses.per_run import analyze_run  # noqa: E402
from sslgeom.config.validate import training_set_size, validate_config  # noqa: E402
from sslgeom.data import build_dataset, cifar, save_dataset, stl10  # noqa: E402
from sslgeom.device import configure_kernels, resolve_device  # noqa: E402
from sslgeom.embedding.run import embed_run  # noqa: E402
from sslgeom.models.run_models import trained_run_models  # noqa: E402
from sslgeom.training.augment import StrengthAugmentation  # noqa: E402
from sslgeom.training.length import training_length  # noqa: E402
from sslgeom.training.loop import save_atomically, train_epoch, training_step  # noqa: E402
from sslgeom.training.run import pretrain_run  # noqa: E402
from sslgeom.training.views import AugmentedViews  # noqa: E402

FIXTURE_CONFIG = REPO / "tests" / "fixtures" / "tiny_config.yaml"
# the measured model: the paper's ResNet-18, or on a CPU the default experiment's small ResNet
MODEL_CONFIGS = {"paper": "configs/cifar10_paper.yaml", "default": "config.yaml"}
PAPER_CONFIGS = ("cifar10_paper.yaml", "cifar100.yaml", "stl10.yaml")
IMAGE_SIZES = {"cifar10": cifar.IMAGE_SIZE, "cifar100": cifar.IMAGE_SIZE, "stl10": stl10.IMAGE_SIZE}
KILL_AFTER_EPOCH = 2
TARGET_SPEEDUP = 3.0
TARGET_PEAK_FRACTION = 0.4
JOB_TIMEOUT_S = 600


@dataclass(frozen=True)
class Tolerance:
    """|device − cpu| ≤ absolute + relative·|cpu|; accuracies within ``test_images`` images."""

    relative: float
    absolute: float
    test_images: int


STRICT = Tolerance(relative=1e-3, absolute=1e-3, test_images=1)
TF32_BAND = Tolerance(relative=5e-2, absolute=2e-2, test_images=3)
# float32 on two devices differs in the order of its sums, about 1e-6 relative per layer: on
# an H100 with TF32 off the embeddings of the same weights agreed to 7e-6 (TF32: 1e-3), the
# epoch losses of the shapes runs' 8 AdamW steps, which amplify rounding, to 4.4e-4 (TF32: 2e-3)
EMBEDDING_TOLERANCE = 1e-4  # ‖device − cpu‖ / ‖cpu‖ of each array, the same weights
LOSS_TOLERANCE = 1e-2  # relative, each epoch's mean loss


@dataclass(frozen=True)
class Shape:
    """The images of a throughput measurement: size², batch, resident images, steps timed."""

    image_size: int
    batch: int
    images: int
    steps: int


@dataclass(frozen=True)
class Sizes:
    # the fixture runs compared: those on these datasets. Not mnist5k: its runs take 152 AdamW
    # steps, over which rounding differences grow past any fixed tolerance, and they use no
    # device code that the shapes runs do not
    fixture_datasets: tuple[str, ...]
    fixture_strengths: tuple[float, ...]  # at these strengths
    model: str  # a key of MODEL_CONFIGS
    resume_images: int
    resume_batch: int
    resume_epochs: int
    shapes: tuple[Shape, ...]  # the CIFAR step (every variant), then the STL-10 step
    warmup_steps: int
    rounds: int
    matmul_size: int
    compile: bool


GPU_SIZES = Sizes(
    fixture_datasets=("shapes",),
    fixture_strengths=(0.0, 0.5),
    model="paper",
    resume_images=2048,
    resume_batch=512,
    resume_epochs=4,
    shapes=(Shape(32, 512, 50_000, 97), Shape(96, 256, 5_000, 19)),  # a CIFAR / STL-10 epoch
    warmup_steps=10,
    rounds=2,
    matmul_size=8192,
    compile=True,
)
QUICK_GPU_SIZES = replace(  # the same runs and model, fewer steps timed on fewer images
    GPU_SIZES,
    shapes=(Shape(32, 512, 4096, 8), Shape(96, 256, 1024, 4)),
    warmup_steps=3,
    rounds=1,
    matmul_size=4096,
)
CPU_SIZES = Sizes(
    fixture_datasets=("shapes",),
    fixture_strengths=(0.5,),
    model="default",
    resume_images=256,
    resume_batch=64,
    resume_epochs=8,
    shapes=(Shape(32, 32, 256, 4), Shape(96, 8, 32, 2)),
    warmup_steps=1,
    rounds=1,
    matmul_size=512,
    compile=False,
)


@dataclass(frozen=True)
class Variant:
    name: str
    precision: str
    channels_last: bool
    compiled: bool = False


PIPELINE_DEFAULT = Variant("fp32 channels-last", "fp32", True)
BF16 = Variant("bf16 channels-last", "bf16", True)
VARIANTS = (
    PIPELINE_DEFAULT,
    Variant("fp32 NCHW", "fp32", False),
    BF16,
    Variant("bf16 NCHW", "bf16", False),
)
COMPILED = Variant("bf16 channels-last compiled", "bf16", True, compiled=True)
USUAL_RECIPE = "usual recipe"
PARTS = ("fixture", "resume", "throughput", "breakdown")


def sizes_for(device: torch.device, quick: bool) -> Sizes:
    if device.type == "cpu":
        return replace(CPU_SIZES, compile=not quick)
    return QUICK_GPU_SIZES if quick else GPU_SIZES


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def guarded(into: dict, errors: dict, name: str, measure, *arguments) -> None:
    """``into[name] = measure(*arguments)``, printing its wall time; an exception is recorded
    in ``errors[name]`` and printed instead of ending the check."""
    started = time.perf_counter()
    try:
        into[name] = measure(*arguments)
    except Exception:
        errors[name] = traceback.format_exc()
        print(f"{name} FAILED:\n{errors[name]}")
    print(f"[{name}: {time.perf_counter() - started:.0f} s]")


# --- jobs in their own processes -------------------------------------------------------------


def start_job(job: str, arguments: dict, log: Path | None) -> subprocess.Popen:
    """This script running ``job`` with ``arguments``; its output to ``log``, or to a pipe."""
    command = [
        sys.executable,
        "-u",
        __file__,
        "--job",
        job,
        "--job-arguments",
        json.dumps(arguments),
    ]
    if log is None:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    with open(log, "w") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def finish_job(process: subprocess.Popen, log: Path) -> None:
    """Wait for a job (killing it after JOB_TIMEOUT_S); if it failed, raise with the end of
    its log."""
    try:
        process.wait(timeout=JOB_TIMEOUT_S)
    finally:
        process.kill()
    if process.returncode != 0:
        raise RuntimeError(f"job failed ({process.returncode}):\n{log.read_text()[-3000:]}")


def run_job(name: str, arguments: dict) -> None:
    jobs = {"fixture": fixture_job, "pretrain": pretrain_job}
    jobs[name](**arguments)


# --- 1. the fixture's runs on the CPU and on the device --------------------------------------


def fixture_config() -> tuple[dict, dict[str, dict]]:
    """(the fixture config, filled with the schema defaults; run id → settings)."""
    config = yaml.safe_load(FIXTURE_CONFIG.read_text())
    (runs,) = validated_runs(config).values()
    return config, runs


def validated_runs(config: dict) -> dict[str, dict[str, dict]]:
    """experiment → run id → settings; fills ``config`` with the schema defaults."""
    return validate_config(config, REPO / "workflow" / "schemas")


def run_folder(run_id: str) -> str:
    return run_id.replace("/", "_")


def fixture_job(out: str, data: str, device: str, run_ids: list, fp32: bool, cpu_out) -> None:
    """The fixture runs ``run_ids`` end to end through the library on ``device`` (one thread,
    the pipeline's default) into ``out``/<run>/; with ``cpu_out`` (the CPU job's folder), its
    models are also embedded and analysed here, into ``out``/<run>/cpu_weights/. ``fp32``:
    TF32 off."""
    if fp32:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    _, runs = fixture_config()
    for run_id in run_ids:
        settings = runs[run_id]
        folder = Path(out) / run_folder(run_id)
        dataset = str(Path(data) / f"{settings['dataset']}.npz")
        model, train_log = folder / "model.pt", folder / "train_log.csv"
        pretrain_run(run_id, settings, dataset, model, train_log, folder / "c.pt", device, 1)
        embed_and_analyze(model, dataset, device, folder)
        if cpu_out is not None:
            cpu_model = Path(cpu_out) / run_folder(run_id) / "model.pt"
            embed_and_analyze(cpu_model, dataset, device, folder / "cpu_weights")


def embed_and_analyze(model: Path, dataset: str, device: str, folder: Path) -> None:
    """embed_run (with the geometry extraction), analyze_run and geometry_run of a model."""
    config, _ = fixture_config()
    extraction = {key: config["geometry"][key] for key in EXTRACTION_OPTIONS}
    measurement = {key: config["geometry"][key] for key in MEASUREMENT_OPTIONS}
    embeddings, fit_images = str(folder / "embeddings.npz"), config["identifiability"]["fit_images"]
    models = trained_run_models(str(model), resolve_device(device))
    embed_run(models, dataset, embeddings, config["embedding"], fit_images, extraction)
    analyze_run(
        embeddings, str(folder / "metrics.csv"), str(folder / "spectra.csv"), config["analysis"]
    )
    geometry, jacobian = str(folder / "geometry.csv"), str(folder / "jacobian_spectrum.csv")
    geometry_run(embeddings, geometry, jacobian, measurement)


def fixture_jobs_of(device: torch.device) -> dict[str, tuple[str, bool]]:
    """name → (device, TF32 off) of the fixture jobs; the first is the CPU reference."""
    if device.type == "cpu":
        return {"cpu": ("cpu", False), "cpu, second process": ("cpu", False)}
    return {
        "cpu": ("cpu", False),
        f"{device} fp32": (str(device), True),
        str(device): (str(device), False),
    }


def fixture_runs(device: torch.device, sizes: Sizes, workdir: Path) -> dict:
    """Run the fixture's jobs on its runs of ``sizes``, the CPU's first, then the device's side
    by side, and compare the device's with the CPU's (:func:`compare_with_cpu`)."""
    config, runs = fixture_config()
    run_ids = [
        run_id
        for run_id, settings in runs.items()
        if settings["dataset"] in sizes.fixture_datasets
        and settings["strength"] in sizes.fixture_strengths
    ]
    data = workdir / "data"
    for name in {runs[run_id]["dataset"] for run_id in run_ids}:
        save_dataset(build_dataset(name, **config["datasets"][name]), data / f"{name}.npz")
    (cpu_name, (cpu_device, _)), *others = fixture_jobs_of(device).items()
    cpu_out = workdir / "fixture" / "0"
    finish_job(*start_fixture_job(cpu_out, data, cpu_device, run_ids, False, None))
    outs = {name: workdir / "fixture" / str(index) for index, name in enumerate(dict(others), 1)}
    jobs = [
        start_fixture_job(outs[name], data, job_device, run_ids, fp32, cpu_out)
        for name, (job_device, fp32) in others
    ]
    for job in jobs:
        finish_job(*job)
    comparisons = {}
    for index, name in enumerate(outs):
        comparisons[name] = compare_with_cpu(cpu_out, outs[name], run_ids, checked=index == 0)
        print(f"fixture: {name} vs {cpu_name}: {json.dumps(comparisons[name], indent=1)}")
    return comparisons


def start_fixture_job(out: Path, data: Path, device: str, run_ids, fp32: bool, cpu_out):
    """(process, log) of a fixture job."""
    out.mkdir(parents=True)
    arguments = {
        "out": str(out),
        "data": str(data),
        "device": device,
        "run_ids": run_ids,
        "fp32": fp32,
        "cpu_out": None if cpu_out is None else str(cpu_out),
    }
    log = out.with_suffix(".log")
    return start_job("fixture", arguments, log), log


def compare_with_cpu(cpu_out: Path, out: Path, run_ids: list[str], checked: bool) -> dict:
    """A device's fixture runs against the CPU's.

    Checked (for the first device job, TF32 off): the training loss of every epoch within
    LOSS_TOLERANCE, and, for the CPU's trained weights embedded on the device, every array of
    embeddings.npz within EMBEDDING_TOLERANCE (‖device − cpu‖ / ‖cpu‖). Reported: the metrics
    of those embeddings against the CPU's within STRICT, and the metrics of the device's own
    runs within TF32_BAND. These are not checked: on the fixture's 2-epoch models rounding
    alone moves some of them far (on an H100, TF32 off: embeddings of the same weights within
    7e-6, yet style-tangent sensitivity 0.5% and angles 0.4° apart; after each device's own
    training, projector alpha_req 8.7 against 7.6), because alpha_req fits the noise-level tail
    of a collapsed spectrum (rankme ≈ 1.3) and the style tangents, finite differences that are
    near zero where the encoder ignores a latent, then point in directions set by rounding.
    """
    test_images = held_out_images(run_ids)
    losses = relative_differences(cpu_out, out, "train_log.csv")
    embeddings = relative_differences(cpu_out, out, "cpu_weights/embeddings.npz")
    comparison = {
        "checked": checked,
        "max_loss_relative_difference": max(losses.values()),
        "max_embedding_relative_difference": max(embeddings.values()),
        "max_embedding_difference_at": max(embeddings, key=embeddings.get),
        "same_weights_metrics": compare_rows(
            table_values(cpu_out, ""), table_values(out, "cpu_weights/"), STRICT, test_images
        ),
        "own_training_metrics": compare_rows(
            table_values(cpu_out, ""), table_values(out, ""), TF32_BAND, test_images
        ),
    }
    comparison["passed"] = (
        comparison["max_loss_relative_difference"] <= LOSS_TOLERANCE
        and comparison["max_embedding_relative_difference"] <= EMBEDDING_TOLERANCE
    )
    return comparison


def relative_differences(cpu_out: Path, out: Path, file: str) -> dict[str, float]:
    """run/array → ‖device − cpu‖ / ‖cpu‖ of every float array of ``file`` in each run (for
    train_log.csv: the losses of the epochs)."""
    differences = {}
    for run in sorted(path.name for path in cpu_out.iterdir() if path.is_dir()):
        reference, other = (
            read_arrays(cpu_out / run / Path(file).name),
            read_arrays(out / run / file),
        )
        for name, value in reference.items():
            norm = max(np.linalg.norm(value), np.finfo(np.float64).tiny)  # 0 for 0 − 0
            differences[f"{run}/{name}"] = float(np.linalg.norm(other[name] - value) / norm)
    return differences


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".csv":
        with open(path, newline="") as file:
            return {"loss": np.array([float(row["loss"]) for row in csv.DictReader(file)])}
    with np.load(path) as arrays:
        return {name: arrays[name] for name in arrays.files if arrays[name].dtype.kind == "f"}


def held_out_images(run_ids: list[str]) -> dict[str, int]:
    """run folder → test images of its dataset, for the fixture runs ``run_ids``."""
    config, runs = fixture_config()
    return {
        run_folder(run_id): config["datasets"][runs[run_id]["dataset"]]["n_test"]
        for run_id in run_ids
    }


def table_values(out: Path, prefix: str) -> dict[tuple[str, ...], float]:
    """(run folder, table, key…) → value of the metrics and geometry rows of each run
    (``prefix``: the folder inside the run that holds them)."""
    tables = {"metrics": ("layer", "metric"), "geometry": ("family", "metric")}
    values = {}
    for run in sorted(path for path in out.iterdir() if path.is_dir()):
        for table, keys in tables.items():
            with open(run / f"{prefix}{table}.csv", newline="") as file:
                for row in csv.DictReader(file):
                    values[(run.name, table, *(row[key] for key in keys))] = float(row["value"])
    return values


def compare_rows(reference: dict, other: dict, tolerance: Tolerance, test_images: dict) -> dict:
    """Every row of ``other`` against ``reference`` (the CPU's): the rows out of ``tolerance``
    and the largest absolute difference."""
    if set(reference) != set(other):
        return {"within": False, "mismatched_rows": sorted(set(reference) ^ set(other))[:5]}
    out_of_tolerance, largest, largest_at = [], 0.0, None
    for key, value in reference.items():
        difference = abs(other[key] - value)
        allowed = tolerance.absolute + tolerance.relative * abs(value)
        if key[-1].endswith("_acc"):  # probe_acc, knn_acc: a share of the test images
            allowed = (tolerance.test_images + 0.5) / test_images[key[0]]
        if not difference <= allowed:  # NaN fails
            out_of_tolerance.append(f"{'/'.join(key)}: cpu {value:.4g}, device {other[key]:.4g}")
        if not difference <= largest:
            largest, largest_at = difference, "/".join(key)
    return {
        "within": not out_of_tolerance,
        "rows": len(reference),
        "tolerance": asdict(tolerance),
        "max_abs_difference": largest,
        "max_at": largest_at,
        "n_out_of_tolerance": len(out_of_tolerance),
        "out_of_tolerance": out_of_tolerance,
    }


# --- 2. kill and resume ------------------------------------------------------------------------


def pretrain_job(folder: str, settings: dict, dataset: str, device: str, deterministic: bool):
    """pretrain_run of the run ``settings`` into ``folder``."""
    root = Path(folder)
    model, train_log, checkpoint = root / "model.pt", root / "train_log.csv", root / "c.pt"
    pretrain_run(
        "resume", settings, dataset, model, train_log, checkpoint, device, 1, deterministic
    )


def resume_checks(device: torch.device, sizes: Sizes, workdir: Path) -> dict:
    """Kill-and-resume with ``compute.deterministic`` on (checked) and, on a GPU, off."""
    folder = workdir / "resume"
    dataset = folder / "shapes.npz"
    save_dataset(build_dataset("shapes", n_train=sizes.resume_images, n_test=16, seed=0), dataset)
    settings = run_settings(sizes.model) | {
        "epochs": sizes.resume_epochs,
        "batch_size": sizes.resume_batch,
    }
    modes = {"deterministic": True} | ({"default": False} if device.type == "cuda" else {})
    results = {}
    for mode, deterministic in modes.items():
        arguments = {
            "settings": settings,
            "dataset": str(dataset),
            "device": str(device),
            "deterministic": deterministic,
        }
        results[mode] = resume_check(folder / mode, arguments)
        print(f"resume ({mode}): {results[mode]}")
    return results


def resume_check(folder: Path, arguments: dict) -> dict:
    """Kill a training job after epoch KILL_AFTER_EPOCH and start it again; compare its final
    weights with those of an uninterrupted job, which runs beside the killed one."""
    uninterrupted, resumed = folder / "uninterrupted", folder / "resumed"
    for path in (uninterrupted, resumed):
        path.mkdir(parents=True)
    log = folder / "uninterrupted.log"
    reference = start_job("pretrain", arguments | {"folder": str(uninterrupted)}, log)
    killed_after = run_until_killed(
        start_job("pretrain", arguments | {"folder": str(resumed)}, None)
    )
    finish_job(reference, log)
    resumed_log = folder / "resumed.log"
    finish_job(
        start_job("pretrain", arguments | {"folder": str(resumed)}, resumed_log), resumed_log
    )
    resuming = [
        line for line in resumed_log.read_text().splitlines() if line.startswith("resuming")
    ]
    if not resuming:
        raise RuntimeError(f"the restarted job did not resume from a checkpoint, see {resumed_log}")
    return {
        "killed_after": killed_after,
        "resumed_after_epoch": resuming[0].split(" after epoch ")[-1],
        "last_epoch_views_per_s": last_epoch_views_per_s(uninterrupted / "train_log.csv"),
        **compare_weights(uninterrupted / "model.pt", resumed / "model.pt"),
    }


def last_epoch_views_per_s(train_log: Path) -> float:
    """The training log's views/s of the last epoch (a rough rate: a short epoch)."""
    with open(train_log, newline="") as file:
        return float(list(csv.DictReader(file))[-1]["views_per_s"])


def run_until_killed(process: subprocess.Popen) -> str:
    """Read the job's output until its line for epoch KILL_AFTER_EPOCH, SIGKILL it, and return
    that line; raise if the job ended first (nothing would be resumed)."""
    marker, lines = f"epoch {KILL_AFTER_EPOCH}/", []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(marker):
            break
    if not lines[-1:] or not lines[-1].startswith(marker) or process.poll() is not None:
        process.kill()
        raise RuntimeError("the job ended before it could be killed:\n" + "".join(lines[-20:]))
    process.kill()
    process.wait()
    process.stdout.close()
    return lines[-1].strip()


def compare_weights(reference_path: Path, other_path: Path) -> dict:
    reference = torch.load(reference_path, map_location="cpu", weights_only=True)["model"]
    other = torch.load(other_path, map_location="cpu", weights_only=True)["model"]
    largest = max(
        (value.double() - other[name].double()).abs().max().item()
        for name, value in reference.items()
        if value.is_floating_point()
    )
    equal = all(torch.equal(value, other[name]) for name, value in reference.items())
    return {"weights_equal": equal, "max_abs_weight_difference": largest}


# --- 3. throughput -------------------------------------------------------------------------


def run_settings(model: str) -> dict:
    """The settings of the first run of the model's config, at strength STRENGTH."""
    experiments = config_runs(REPO / MODEL_CONFIGS[model])
    first_experiment = next(iter(experiments.values()))
    return next(iter(first_experiment.values())) | {"strength": STRENGTH}


def random_images(count: int, image_size: int, device: torch.device) -> torch.Tensor:
    """uint8 N×H×W×C images of uniform noise (the augmentation costs the same on any image)."""
    generator = torch.Generator().manual_seed(0)
    size = (count, image_size, image_size, 3)
    return torch.randint(0, 256, size, dtype=torch.uint8, generator=generator).to(device)


class ProjectTraining:
    """One variant of the project's training: ``sslgeom.training.loop.train_epoch`` on
    resident images."""

    def __init__(self, settings: dict, variant: Variant, shape: Shape, images: torch.Tensor):
        model, augment, self.method, self.optimizer = training_parts(
            settings, variant.channels_last, shape.image_size, images.device.type
        )
        self.eager_model = model
        self.model = torch.compile(model) if variant.compiled else model
        self.sampler = AugmentedViews(images, augment)
        self.lr, self.batch, self.precision = settings["lr"], shape.batch, variant.precision

    def seconds(self, steps: int) -> float:
        """Wall time of ``steps`` steps of ``train_epoch`` (which reads the loss at its end)."""
        synchronize(self.sampler.device)
        started = time.perf_counter()
        train_epoch(
            self.model,
            self.sampler,
            self.method,
            self.optimizer,
            lambda _: self.lr,
            0,
            self.batch,
            self.precision,
            steps,
        )
        return time.perf_counter() - started

    def step_flops(self) -> int:
        """FLOPs of one fp32 training step: forward and backward of both views and the loss."""
        views = self.sampler.pair(torch.arange(self.batch, device=self.sampler.device))
        with FlopCounterMode(display=False) as counter:
            training_step(self.eager_model, views, self.method, self.optimizer, "fp32")
        return counter.get_total_flops()

    def checkpoint_seconds(self, path: Path) -> float:
        """Best of two saves of the weights and optimizer state, as every epoch saves them."""
        state = {"model": self.eager_model.state_dict(), "optimizer": self.optimizer.state_dict()}
        times = []
        for _ in range(2):
            started = time.perf_counter()
            save_atomically(state, path)
            times.append(time.perf_counter() - started)
        return min(times)


def warmed_up_training(settings, variant: Variant, shape: Shape, images, warmup_steps: int):
    training = ProjectTraining(settings, variant, shape, images)
    training.seconds(warmup_steps)  # cuDNN autotuning, compilation
    return training


class TorchvisionPairs(Dataset):
    """Two views of each PIL image by a torchvision ``transforms.v2`` pipeline."""

    def __init__(self, images: list, transform):
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = self.images[index]
        return self.transform(image), self.transform(image)


def usual_recipe_pairs(images: torch.Tensor, strength: float) -> tuple[Dataset, str]:
    """(dataset of view pairs, what makes them): the StrengthAugmentation policy in
    torchvision ``transforms.v2`` on PIL images, or where torchvision is missing the kornia
    per-image stand-in of benchmarks/training_throughput.py."""
    size = tuple(images.shape[1:3])
    try:
        from PIL import Image
        from torchvision.transforms import v2
    except ImportError:
        from training_throughput import AugmentedPairs

        pairs = AugmentedPairs(images, StrengthAugmentation(strength, size))
        return pairs, "kornia one image at a time (torchvision is missing)"
    s = strength
    transform = v2.Compose(
        [
            v2.RandomResizedCrop(
                size, scale=(1 - 0.92 * s, 1.0), ratio=((3 / 4) ** s, (4 / 3) ** s)
            ),
            v2.RandomApply([v2.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8 * s),
            v2.RandomGrayscale(p=0.2 * s),
            v2.RandomHorizontalFlip(p=0.5 * s),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
        ]
    )
    pil_images = [Image.fromarray(image) for image in images.numpy()]
    return TorchvisionPairs(pil_images, transform), "torchvision transforms.v2 on PIL images"


class UsualRecipe:
    """The usual recipe: per-image augmentation in DataLoader workers, fp32 NCHW eager."""

    def __init__(self, settings: dict, shape: Shape, device: torch.device, workers: int):
        self.model, _, self.method, self.optimizer = training_parts(
            settings, False, shape.image_size, device.type
        )
        host_images = random_images(
            shape.batch * shape.steps, shape.image_size, torch.device("cpu")
        )
        pairs, self.augmentation = usual_recipe_pairs(host_images, settings["strength"])
        self.loader = DataLoader(
            pairs,
            batch_size=shape.batch,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=True,
        )
        self.device = device

    def seconds(self) -> float:
        """Wall time of one epoch: every batch of the loader."""
        self.model.train()
        started = time.perf_counter()
        for first, second in self.loader:
            both = torch.cat([first, second]).to(self.device, non_blocking=True)
            loss = self.method.loss_fn(*self.model(both).chunk(2))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        synchronize(self.device)
        return time.perf_counter() - started


def host_syncs_per_step(training: ProjectTraining) -> dict:
    """Host synchronisations per step of ``train_epoch`` (CUDA's sync debug mode): those of 3
    steps minus those of 1, halved; and the lines of code that asked for them."""
    counts, sources = [], set()
    for steps in (1, 3):
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                training.seconds(steps)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        counts.append(len(caught))
        sources |= {f"{Path(warning.filename).name}:{warning.lineno}" for warning in caught}
    return {
        "per_step": (counts[1] - counts[0]) / 2,
        "in_1_step_epoch": counts[0],
        "from": sorted(sources),
    }


def measure_throughput(settings: dict, sizes: Sizes, device: torch.device, workdir: Path) -> dict:
    """views/s of each variant and of the usual recipe (each round one epoch of
    ``shape.steps`` steps, alternating), host syncs per step, the step's FLOPs, a checkpoint's
    save time, and step seconds at every shape."""
    configure_kernels(device, deterministic=False)
    shape, *other_shapes = sizes.shapes
    images = random_images(shape.images, shape.image_size, device)
    variants = VARIANTS + ((COMPILED,) if sizes.compile else ())
    trainings, errors = {}, {}
    for variant in variants:
        arguments = (settings, variant, shape, images, sizes.warmup_steps)
        guarded(trainings, errors, variant.name, warmed_up_training, *arguments)
    workers = len(os.sched_getaffinity(0))
    usual = UsualRecipe(settings, shape, device, workers)
    print(f"{USUAL_RECIPE}: {usual.augmentation}, {workers} DataLoader workers")
    usual.seconds()  # warm-up: the workers start, cuDNN autotunes
    views, rates = 2 * shape.batch * shape.steps, {}
    for round_index in range(sizes.rounds):
        epochs = {
            name: lambda t=training: t.seconds(shape.steps) for name, training in trainings.items()
        }
        for name, epoch in (epochs | {USUAL_RECIPE: usual.seconds}).items():
            rates.setdefault(name, []).append(views / epoch())
            print(f"  round {round_index + 1}: {name:<28s} {rates[name][-1]:9.0f} views/s")
    default = trainings[PIPELINE_DEFAULT.name]
    results = {
        "views_per_s": rates,
        "errors": errors,
        "usual_recipe": f"{usual.augmentation}, {workers} DataLoader workers",
        "step_flops": default.step_flops(),
        "checkpoint_seconds": default.checkpoint_seconds(workdir / "checkpoint.pt"),
        "step_seconds": {
            str(shape.image_size): {name: 2 * shape.batch / max(r) for name, r in rates.items()}
        },
    }
    if device.type == "cuda":
        results["host_syncs"] = host_syncs_per_step(default)
    for other in other_shapes:
        results["step_seconds"][str(other.image_size)] = step_seconds_at(
            settings, other, sizes, device
        )
    return results


def step_seconds_at(settings: dict, shape: Shape, sizes: Sizes, device: torch.device) -> dict:
    """Step seconds of the channels-last eager variants at another image size (STL-10's)."""
    images = random_images(shape.images, shape.image_size, device)
    seconds = {}
    for variant in (PIPELINE_DEFAULT, BF16):
        training = warmed_up_training(settings, variant, shape, images, sizes.warmup_steps)
        name = variant.name
        seconds[name] = min(
            training.seconds(shape.steps) / shape.steps for _ in range(sizes.rounds)
        )
        rate = 2 * shape.batch / seconds[name]
        print(f"  {shape.image_size}², batch {shape.batch}, {name}: {rate:.0f} views/s")
    return seconds


def step_breakdown(settings: dict, sizes: Sizes, device: torch.device) -> dict:
    """Where the project's step spends its time: the augmentation of a batch's two views (as
    the pipeline runs it, and each of its operations alone), and the model's training step on fixed
    views in each precision, with its FLOPs over the bf16 matrix-product peak. Each the median
    of ``shape.steps`` calls, synchronised, after ``warmup_steps``."""
    configure_kernels(device, deterministic=False)
    shape = sizes.shapes[0]
    images = random_images(shape.images, shape.image_size, device)
    indices = torch.arange(shape.batch, device=device)
    variants = (PIPELINE_DEFAULT, BF16) + ((COMPILED,) if sizes.compile else ())
    trainings = {
        variant.name: ProjectTraining(settings, variant, shape, images) for variant in variants
    }
    sampler = trainings[PIPELINE_DEFAULT.name].sampler
    timings = {"augmentation as run": median_seconds(lambda: sampler.pair(indices), sizes, device)}
    both_views = torch.cat(sampler.pair(indices))
    for op in sampler.augment.ops:
        name = f"augmentation: {type(op).__name__} alone"
        timings[name] = median_seconds(functools.partial(op, both_views), sizes, device)
    views = sampler.pair(indices)
    for name, training in trainings.items():
        step = functools.partial(
            training_step,
            training.model,
            views,
            training.method,
            training.optimizer,
            training.precision,
        )
        timings[f"model step, {name}"] = median_seconds(step, sizes, device)
    for name, seconds in timings.items():
        print(f"  {name}: {1e3 * seconds:.2f} ms")
    peak, flops = (
        matmul_peak(sizes.matmul_size, device),
        trainings[PIPELINE_DEFAULT.name].step_flops(),
    )
    fractions = {
        name: flops / seconds / peak
        for name, seconds in timings.items()
        if name.startswith("model")
    }
    print(
        f"  bf16 matmul peak {peak / 1e12:.0f} TFLOP/s; model step {flops / 1e12:.3f} TFLOP; "
        f"share of the peak: {fractions}"
    )
    return {
        "seconds": timings,
        "bf16_matmul_flops_per_s": peak,
        "step_flops": flops,
        "peak_fraction": fractions,
    }


def median_seconds(call, sizes: Sizes, device: torch.device) -> float:
    """Median wall time of ``call``, synchronised, over ``shape.steps`` calls after warm-up."""
    for _ in range(sizes.warmup_steps):
        call()
    times = []
    for _ in range(sizes.shapes[0].steps):
        synchronize(device)
        started = time.perf_counter()
        call()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- 4. arithmetic -------------------------------------------------------------------------


def matmul_peak(size: int, device: torch.device, repeats: int = 10) -> float:
    """FLOP/s of a size³ bf16 matrix product on random data: the median of 5 timings of
    ``repeats`` back-to-back products, after 3 untimed."""
    a, b = (torch.randn(size, size, device=device, dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(5):
        synchronize(device)
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        synchronize(device)
        rates.append(repeats * 2 * size**3 / (time.perf_counter() - started))
    return statistics.median(rates)


def arithmetic(throughput: dict, sizes: Sizes, device: torch.device) -> dict:
    """Each variant's FLOP/s (the step's FLOPs over its time) and share of the bf16 peak."""
    peak = matmul_peak(sizes.matmul_size, device)
    flops = throughput["step_flops"]
    step_seconds = throughput["step_seconds"][str(sizes.shapes[0].image_size)]
    achieved = {name: flops / seconds for name, seconds in step_seconds.items()}
    print(
        f"bf16 {sizes.matmul_size}³ matrix product: {peak / 1e12:.1f} TFLOP/s; "
        f"training step {flops / 1e12:.3f} TFLOP"
    )
    return {
        "bf16_matmul_flops_per_s": peak,
        "flops_per_s": achieved,
        "peak_fraction": {name: rate / peak for name, rate in achieved.items()},
    }


# --- 5. projection -------------------------------------------------------------------------


def view_seconds(step_seconds: dict, sizes: Sizes) -> dict[tuple[int, str], float]:
    """(image size, precision) → seconds per view of the channels-last eager steps."""
    return {
        (shape.image_size, variant.precision): step_seconds[str(shape.image_size)][variant.name]
        / (2 * shape.batch)
        for shape in sizes.shapes
        for variant in (PIPELINE_DEFAULT, BF16)
    }


def run_length(settings: dict, datasets: dict) -> tuple[int, int]:
    """(optimizer steps, epochs) of one run of a config."""
    n_images = settings["train_size"] or training_set_size(
        settings["dataset"], datasets[settings["dataset"]]
    )
    length = training_length(
        n_images, settings["batch_size"], settings["epochs"], settings["train_steps"]
    )
    return length.total_steps, length.epochs


def projected_hours(config_file: Path, seconds_per_view: dict, checkpoint_seconds: float) -> dict:
    """GPU-hours of training every run of a config: its steps × 2·batch × seconds per view at
    its image size and precision (as configured, and bf16), plus a checkpoint save per epoch."""
    config = yaml.safe_load(config_file.read_text())
    runs = [run for experiment in validated_runs(config).values() for run in experiment.values()]
    hours = {"runs": len(runs), "steps": 0, "configured": 0.0, "bf16": 0.0}
    for settings in runs:
        steps, epochs = run_length(settings, config["datasets"])
        size = IMAGE_SIZES[settings["dataset"]]
        hours["steps"] += steps
        for key, precision in (("configured", settings["precision"]), ("bf16", "bf16")):
            training = steps * 2 * settings["batch_size"] * seconds_per_view[size, precision]
            hours[key] += (training + epochs * checkpoint_seconds) / 3600
    return hours


def projections(throughput: dict, sizes: Sizes) -> dict:
    per_view = view_seconds(throughput["step_seconds"], sizes)
    checkpoint = throughput["checkpoint_seconds"]
    return {
        name: projected_hours(REPO / "configs" / name, per_view, checkpoint)
        for name in PAPER_CONFIGS
    }


# --- the check -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--workdir", type=Path, help="keep the jobs' files here")
    parser.add_argument("--skip", nargs="*", default=[], choices=PARTS, help="parts to leave out")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--job-arguments", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        run_job(args.job, args.job_arguments)
        return 0
    device = resolve_device(args.device)
    sizes = sizes_for(device, args.quick)
    parts = [part for part in PARTS if part not in args.skip]
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return check(device, sizes, args.workdir, args.json, parts)
    with tempfile.TemporaryDirectory() as workdir:
        return check(device, sizes, Path(workdir), args.json, parts)


def check(device, sizes: Sizes, workdir: Path, json_path: Path | None, parts: list[str]) -> int:
    """The ``parts`` of the check, one after the other; the exit status. ``json_path`` is
    rewritten after each part, so that a run cut short keeps what it measured."""
    results, errors = {"device": describe(device), "torch": torch.__version__}, {}
    results |= {"sizes": asdict(sizes), "parts": parts, "errors": errors}
    print(f"{results['device']}, torch {torch.__version__}, {sizes.model} model", flush=True)
    settings = run_settings(sizes.model)
    steps = {
        "fixture": (fixture_runs, device, sizes, workdir),
        "resume": (resume_checks, device, sizes, workdir),
        "throughput": (measure_throughput, settings, sizes, device, workdir),
        "breakdown": (step_breakdown, settings, sizes, device),
    }
    for part in parts:
        guarded(results, errors, part, *steps[part])
        if part == "throughput" and "throughput" in results:
            guarded(results, errors, "arithmetic", arithmetic, results[part], sizes, device)
            guarded(results, errors, "projection", projections, results[part], sizes)
        save_results(results, json_path)
    results["checks"] = check_outcomes(results)
    results["targets"] = target_outcomes(results)
    print_summary(results)
    save_results(results, json_path)
    return 0 if all(results["checks"].values()) else 1


def save_results(results: dict, json_path: Path | None) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2))


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} ({device})"
    return f"CPU, {len(os.sched_getaffinity(0))} cores ({torch.backends.cpu.get_cpu_capability()})"


def check_outcomes(results: dict) -> dict[str, bool]:
    """Each checked outcome of the parts that ran."""
    outcomes = {
        "every part ran": not results["errors"] and not results.get("throughput", {}).get("errors")
    }
    if "fixture" in results:
        fixture = [c["passed"] for c in results["fixture"].values() if c["checked"]]
        outcomes["fixture within tolerance"] = fixture == [True]
    if "resume" in results:
        outcomes["resumed weights equal"] = results["resume"]["deterministic"]["weights_equal"]
    return outcomes


def target_outcomes(results: dict) -> dict:
    """Speed-ups over the usual recipe and shares of the bf16 peak: the pipeline's default
    (fp32 channels-last eager) and the best variant, against the targets."""
    rates = results.get("throughput", {}).get("views_per_s", {})
    fractions = results.get("arithmetic", {}).get("peak_fraction", {})
    if USUAL_RECIPE not in rates or not fractions:
        return {}
    usual = max(rates[USUAL_RECIPE])
    speedups = {name: max(r) / usual for name, r in rates.items() if name != USUAL_RECIPE}
    best_speedup = max(speedups, key=speedups.get)
    best_fraction = max(fractions, key=fractions.get)
    return {
        "speedup": speedups,
        "best_speedup": [best_speedup, speedups[best_speedup]],
        "speedup_target_met": speedups[best_speedup] >= TARGET_SPEEDUP,
        "best_peak_fraction": [best_fraction, fractions[best_fraction]],
        "peak_fraction_target_met": fractions[best_fraction] >= TARGET_PEAK_FRACTION,
    }


def print_summary(results: dict) -> None:
    print(f"\n=== summary: {results['device']}, torch {results['torch']}")
    for name, comparison in results.get("fixture", {}).items():
        print(f"fixture {name} vs cpu: {fixture_line(comparison)}")
    for mode, resumed in results.get("resume", {}).items():
        print(
            f"resume ({mode}): killed after '{resumed['killed_after']}', resumed after epoch "
            f"{resumed['resumed_after_epoch']}, weights equal {resumed['weights_equal']} "
            f"(max |difference| {resumed['max_abs_weight_difference']:.1e}); "
            f"{resumed['last_epoch_views_per_s']:.0f} views/s in its last epoch"
        )
    print_throughput(results)
    for config, hours in results.get("projection", {}).items():
        print(
            f"{config}: {hours['runs']} runs, {hours['steps']} steps: {hours['configured']:.1f} "
            f"GPU-hours as configured, {hours['bf16']:.1f} with bf16"
        )
    for name, passed in results["checks"].items():
        print(f"check: {name}: {'PASS' if passed else 'FAIL'}")
    for name, outcome in results["targets"].items():
        print(f"target: {name}: {outcome}")


def fixture_line(comparison: dict) -> str:
    same, own = comparison["same_weights_metrics"], comparison["own_training_metrics"]
    verdict = "PASS" if comparison["passed"] else "FAIL"
    if not comparison["checked"]:
        verdict = "reported"
    return (
        f"{verdict}: epoch losses {comparison['max_loss_relative_difference']:.1e}, embeddings "
        f"of the same weights {comparison['max_embedding_relative_difference']:.1e} (relative); "
        f"their metrics: {same.get('n_out_of_tolerance')} of {same.get('rows')} rows off by more "
        f"than {same.get('tolerance')}; own training's metrics: {own.get('n_out_of_tolerance')} "
        f"off by more than {own.get('tolerance')}, largest {own.get('max_abs_difference', 0):.3g} "
        f"({own.get('max_at')})"
    )


def print_throughput(results: dict) -> None:
    throughput, speedups = results.get("throughput", {}), results["targets"].get("speedup", {})
    fractions = results.get("arithmetic", {}).get("peak_fraction", {})
    if not throughput:
        return
    print(f"usual recipe: {throughput['usual_recipe']}")
    print(f"{'variant':<28s} {'views/s':>9s} {'× usual':>8s} {'of bf16 peak':>13s}")
    for name, rates in throughput["views_per_s"].items():
        speedup = speedups.get(name, 1.0)
        print(f"{name:<28s} {max(rates):9.0f} {speedup:8.2f} {100 * fractions.get(name, 0):12.1f}%")
    print(
        f"checkpoint save {throughput['checkpoint_seconds']:.3f} s; host syncs per step: "
        f"{throughput.get('host_syncs', 'n/a (CPU)')}"
    )


if __name__ == "__main__":
    sys.exit(main())
