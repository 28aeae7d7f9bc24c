"""The default experiment's training setup, shared by the training benchmarks, and one epoch of
the project's training on it.

The run is the default config's first `shapes` run at strength 0.5 (config.yaml, validated and
filled with the schema defaults like the pipeline does); images are generated in process.
"""

from pathlib import Path

import torch
import yaml
from timing import timed

from sslgeom.config.validate import validate_config
from sslgeom.data.shapes import make_shapes
from sslgeom.models.run_models import model_from_settings
from sslgeom.training.augment import StrengthAugmentation
from sslgeom.training.loop import build_optimizer, train_epoch
from sslgeom.training.losses import loss_from_settings
from sslgeom.training.methods import PairwiseLoss
from sslgeom.training.views import AugmentedViews

REPO = Path(__file__).resolve().parents[1]
STRENGTH = 0.5


def validated_config(config_file: Path) -> tuple[dict, dict[str, dict[str, dict]]]:
    """(the config, experiment → run id → settings) of a config file, validated and filled with
    the schema defaults like the pipeline does."""
    config = yaml.safe_load(Path(config_file).read_text())
    return config, validate_config(config, REPO / "workflow" / "schemas")


def default_run_settings() -> dict:
    """The settings of config.yaml's first shapes run, at strength ``STRENGTH``."""
    _, experiments = validated_config(REPO / "config.yaml")
    for experiment in experiments.values():
        for settings in experiment.values():
            if settings["dataset"] == "shapes":
                return settings | {"strength": STRENGTH}
    raise LookupError("config.yaml has no shapes run")


def training_images(n_images: int) -> torch.Tensor:
    """uint8 N×H×W×C shapes images, as the pipeline stores them."""
    return torch.from_numpy(make_shapes(n_images, 1, seed=0).train_images)


def training_parts(settings: dict, channels_last: bool, image_size: int = 32, device: str = "cpu"):
    """(model, augmentation, method, optimizer) of one run of a pairwise loss (SimCLR, VICReg,
    Barlow Twins) on RGB images of ``image_size``², on ``device``; the model fp32, channels-last
    as the pipeline builds it, or NCHW."""
    torch.manual_seed(settings["seed"])
    model = model_from_settings(settings, (image_size, image_size, 3)).to(device)
    if not channels_last:
        model = model.to(memory_format=torch.contiguous_format)
    augment = StrengthAugmentation(settings["strength"], (image_size, image_size))
    method = PairwiseLoss(loss_from_settings(settings["method"], settings))
    optimizer = build_optimizer(
        settings["optimizer"], model.parameters(), settings["lr"], settings["weight_decay"]
    )
    return model, augment, method, optimizer


def project_epoch(parts: tuple, images: torch.Tensor, settings: dict) -> tuple[float, float]:
    """(views per second, mean loss) of one epoch of ``sslgeom.training.loop.train_epoch`` on
    ``images`` with the training ``parts`` of :func:`training_parts`, at the run's batch size
    and learning rate."""
    model, augment, method, optimizer = parts
    batch_size = settings["batch_size"]
    sampler = AugmentedViews(images, augment)
    loss, seconds = timed(
        lambda: train_epoch(
            model, sampler, method, optimizer, lambda _: settings["lr"], 0, batch_size
        )
    )
    return epoch_views(len(images), batch_size) / seconds, loss


def epoch_views(n_images: int, batch_size: int) -> int:
    """The views of an epoch in full batches: two of each image of those batches."""
    return 2 * (n_images // batch_size) * batch_size
