"""Training throughput: the project's training step against the usual PyTorch recipe.

    python benchmarks/training_throughput.py [--images 2048] [--rounds 2] [--threads N]

Both train the default run's model (config.yaml: ResNet encoder, MLP projector, batch size,
strength 0.5, NT-Xent, AdamW) on the same shapes images, in this process, alternating
``--rounds`` times so that machine noise hits both alike:

- project: ``sslgeom.training.loop.train_epoch``: images kept as one uint8 tensor, both views of a
  batch augmented at once (kornia, batched), channels-last model;
- usual recipe: a ``Dataset`` whose ``__getitem__`` augments one image twice (the same kornia
  policy, one image at a time, as torchvision transforms would be used; torchvision itself has
  no working CPU build here), a ``DataLoader`` with one worker per core, fp32 NCHW, eager.

Prints views per second of each and their ratio.
"""

import argparse
import functools
import os
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).parent))
from timing import alternate, best, compared, timed  # noqa: E402
from training_setup import (  # noqa: E402
    default_run_settings,
    epoch_views,
    project_epoch,
    training_images,
    training_parts,
)
from usual_recipe import kornia_pairs, loader_epoch  # noqa: E402

USUAL_RECIPE = "usual recipe"


def usual_recipe_epoch(images, settings, workers: int) -> float:
    """One epoch of the usual recipe; returns views per second."""
    model, augment, method, optimizer = training_parts(settings, channels_last=False)
    batch_size = settings["batch_size"]
    loader = DataLoader(
        kornia_pairs(images, augment),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        persistent_workers=False,
    )
    _, seconds = timed(lambda: loader_epoch(model, method, optimizer, loader, images.device))
    return epoch_views(len(images), batch_size) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = default_run_settings()
    images = training_images(args.images)
    print(
        f"{args.images} images, batch {settings['batch_size']}, strength {settings['strength']}, "
        f"{args.threads} torch threads, DataLoader workers {args.threads}"
    )
    project_parts = functools.partial(training_parts, settings, channels_last=True)
    project_epoch(project_parts(), images[: settings["batch_size"] * 2], settings)  # warm-up
    variants = {
        "project": lambda _: project_epoch(project_parts(), images, settings)[0],
        USUAL_RECIPE: lambda _: usual_recipe_epoch(images, settings, workers=args.threads),
    }
    rates = alternate(
        variants,
        args.rounds,
        lambda index, rates: print(
            f"round {index + 1}: {compared(rates, USUAL_RECIPE, 'views/s')}", flush=True
        ),
    )
    print(f"best: {compared(best(rates), USUAL_RECIPE, 'views/s')}")


if __name__ == "__main__":
    main()
