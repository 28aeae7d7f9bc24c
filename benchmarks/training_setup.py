"""The default experiment's training setup, shared by the training benchmarks.

The run is the default config's first `shapes` run at strength 0.5 (config.yaml, validated and
filled with the schema defaults like the pipeline does); images are generated in process.
"""

from pathlib import Path

import torch
import yaml

from sslgeom.augment import StrengthAugmentation
from sslgeom.config import validate_config
from sslgeom.data.shapes import make_shapes
from sslgeom.losses import loss_from_settings
from sslgeom.runs import model_from_settings
from sslgeom.train import build_optimizer

REPO = Path(__file__).resolve().parents[1]
STRENGTH = 0.5


def default_run_settings() -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    runs = validate_config(config, REPO / "workflow" / "schemas")
    for experiment in runs.values():
        for settings in experiment.values():
            if settings["dataset"] == "shapes" and settings["strength"] == STRENGTH:
                return settings
    raise LookupError(f"config.yaml has no shapes run at strength {STRENGTH}")


def training_images(n_images: int) -> torch.Tensor:
    """uint8 N×H×W×C shapes images, as the pipeline stores them."""
    return torch.from_numpy(make_shapes(n_images, 1, seed=0).train_images)


def training_parts(settings: dict, channels_last: bool):
    """(model, augmentation, loss, optimizer) of one run; the model fp32, channels-last as the
    pipeline builds it, or NCHW."""
    torch.manual_seed(settings["seed"])
    model = model_from_settings(settings, in_channels=3)
    if not channels_last:
        model = model.to(memory_format=torch.contiguous_format)
    augment = StrengthAugmentation(settings["strength"], (32, 32))
    loss = loss_from_settings(settings["method"], settings)
    optimizer = build_optimizer(
        settings["optimizer"], model.parameters(), settings["lr"], settings["weight_decay"]
    )
    return model, augment, loss, optimizer
