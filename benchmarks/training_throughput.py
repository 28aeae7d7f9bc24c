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
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).parent))
from training_setup import default_run_settings, training_images, training_parts  # noqa: E402

from sslgeom.training.augment import StrengthAugmentation, to_float_images  # noqa: E402
from sslgeom.training.loop import train_epoch  # noqa: E402
from sslgeom.training.views import AugmentedViews  # noqa: E402


class AugmentedPairs(Dataset):
    """Two independently augmented views of each image, made one image at a time."""

    def __init__(self, images: torch.Tensor, augment: StrengthAugmentation):
        self.images, self.augment = images, augment

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = to_float_images(self.images[index : index + 1])
        return self.augment(image)[0], self.augment(image)[0]


def usual_recipe_epoch(images, settings, workers: int) -> float:
    """One epoch of the usual recipe; returns views per second."""
    model, augment, method, optimizer = training_parts(settings, channels_last=False)
    loader = DataLoader(
        AugmentedPairs(images, augment),
        batch_size=settings["batch_size"],
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        persistent_workers=False,
    )
    model.train()
    started, n_views = time.perf_counter(), 0
    for view1, view2 in loader:
        z = model(torch.cat([view1, view2]))
        loss = method.loss_fn(*z.chunk(2))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n_views += 2 * len(view1)
    return n_views / (time.perf_counter() - started)


def project_epoch(images, settings) -> float:
    """One epoch of ``sslgeom.training.loop.train_epoch``; returns views per second."""
    model, augment, method, optimizer = training_parts(settings, channels_last=True)
    batch_size = settings["batch_size"]
    started = time.perf_counter()
    sampler = AugmentedViews(images, augment)
    train_epoch(model, sampler, method, optimizer, lambda _: settings["lr"], 0, batch_size)
    return 2 * (len(images) // batch_size) * batch_size / (time.perf_counter() - started)


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
    project_epoch(images[: settings["batch_size"] * 2], settings)  # warm-up
    project, usual = [], []
    for round_index in range(args.rounds):
        project.append(project_epoch(images, settings))
        usual.append(usual_recipe_epoch(images, settings, workers=args.threads))
        print(
            f"round {round_index + 1}: project {project[-1]:7.0f} views/s   "
            f"usual recipe {usual[-1]:7.0f} views/s   ratio {project[-1] / usual[-1]:.2f}x"
        )
    best_project, best_usual = max(project), max(usual)
    print(f"best: project {best_project:.0f} views/s, usual recipe {best_usual:.0f} views/s")
    print(f"speed-up of the project's training step: {best_project / best_usual:.2f}x")


if __name__ == "__main__":
    main()
