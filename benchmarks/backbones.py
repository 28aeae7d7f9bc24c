"""Training-step time of each backbone on the default run, side by side in one process.

    python benchmarks/backbones.py [--steps 6] [--rounds 3] [--threads 1]

Each backbone (resnet, vit, mlp at their settings in config.yaml, else the schema defaults)
trains the default config's shapes run at strength 0.5: the same batch size, loss and
optimizer, on the same pair of augmented batches. The backbones take turns, ``--steps``
optimizer steps each per round for ``--rounds`` rounds (after one warm-up step each), so that
machine noise hits them alike. Prints each backbone's parameters, median seconds per step,
its ratio to the ResNet's, and the training time one default-budget run would take at that
speed (config.yaml's epochs of its shapes training set, full batches).
"""

import argparse
import functools
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from timing import alternate, call_seconds, ratios  # noqa: E402
from training_setup import default_run_settings, training_images, training_parts  # noqa: E402

from sslgeom.models import BACKBONES  # noqa: E402
from sslgeom.training.augment import to_float_images  # noqa: E402
from sslgeom.training.loop import training_step  # noqa: E402

N_TRAIN = 4000  # config.yaml's shapes training set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = default_run_settings()
    batch_size = base["batch_size"]
    images = to_float_images(training_images(batch_size)).to(memory_format=torch.channels_last)
    parts = {
        backbone: training_parts(base | {"backbone": backbone}, channels_last=True)
        for backbone in BACKBONES
    }
    augment = parts["resnet"][1]
    torch.manual_seed(0)
    views = (augment(images), augment(images))
    steps = {}
    for backbone, (model, _, method, optimizer) in parts.items():
        model.train()
        steps[backbone] = functools.partial(training_step, model, views, method, optimizer)
        steps[backbone]()  # warm-up
    rounds = alternate(
        {
            backbone: lambda _, step=step: call_seconds(step, args.steps)
            for backbone, step in steps.items()
        },
        args.rounds,
    )
    medians = {
        backbone: statistics.median(seconds for each in rounds[backbone] for seconds in each)
        for backbone in BACKBONES
    }
    run_steps = base["epochs"] * (N_TRAIN // batch_size)
    print(
        f"batch {batch_size}, {args.threads} thread(s), median of {args.rounds}×{args.steps} "
        f"steps; a default run is {run_steps} steps"
    )
    for backbone, ratio in ratios(medians, "resnet").items():
        median = medians[backbone]
        parameters = sum(value.numel() for value in parts[backbone][0].encoder.parameters())
        print(
            f"{backbone:>6}: encoder {parameters / 1e3:6.1f} k parameters, "
            f"{median * 1e3:6.1f} ms/step, {ratio:4.2f}× resnet, "
            f"default run ≈ {median * run_steps:5.1f} s of training steps"
        )


if __name__ == "__main__":
    main()
