"""The GPU check's projection: the GPU-hours of training each paper config, from the measured
seconds per view at its image size and a checkpoint save per epoch."""

from pathlib import Path

from training_setup import REPO, validated_config

from sslgeom.config.validate import training_set_size
from sslgeom.data import cifar, stl10
from sslgeom.training.length import training_length

from .sizes import BF16, PIPELINE_DEFAULT, Sizes

PAPER_CONFIGS = ("cifar10_paper.yaml", "cifar100.yaml", "stl10.yaml")
IMAGE_SIZES = {"cifar10": cifar.IMAGE_SIZE, "cifar100": cifar.IMAGE_SIZE, "stl10": stl10.IMAGE_SIZE}


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
    config, experiments = validated_config(config_file)
    runs = [run for experiment in experiments.values() for run in experiment.values()]
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
