"""The ResNet's strided 1×1 shortcut, three ways, on the default run's training step.

    python benchmarks/strided_shortcut.py [--images 2048] [--rounds 3] [--threads 1]

Trains the default config's shapes model (channels-last, strength 0.5, its batch size) for one
epoch of ``--images`` images with the shortcut

- as built: ``StridedPointwiseConv``, the strided kernel from 16 input channels on the CPU
  (the default model's shortcuts have 16, 32 and 64), every second pixel then a unit-stride
  1×1 convolution below;
- strided Conv2d: ``nn.Conv2d(..., stride=2)``, what the model used before;
- subsampled: every second pixel then a unit-stride 1×1 convolution at every width;

alternating ``--rounds`` times in this process so that machine noise hits all alike, each from
the same weights and random draws. Prints views per second, the ratios to strided Conv2d, and
whether each epoch's mean loss is bit-identical to strided Conv2d's.
"""

import argparse
import math
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from timing import alternate, best, compared  # noqa: E402
from training_setup import (  # noqa: E402
    default_run_settings,
    project_epoch,
    training_images,
    training_parts,
)

from sslgeom.models import resnet  # noqa: E402

FORMS = ("as built", "strided Conv2d", "subsampled")
REFERENCE = "strided Conv2d"


def use_strided_conv2d(model: nn.Module) -> None:
    """Replace each shortcut of ``model`` by the strided ``nn.Conv2d`` it equals."""
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, resnet.StridedPointwiseConv):
                strided = nn.Conv2d(
                    child.in_channels, child.out_channels, 1, child.step, bias=False
                )
                strided.weight = child.weight
                setattr(module, name, strided.to(memory_format=torch.channels_last))


def epoch(images: torch.Tensor, settings: dict, form: str) -> tuple[float, float]:
    """(views per second, mean loss) of one epoch of ``form`` from the seeded initial weights."""
    parts = training_parts(settings, channels_last=True)
    if form == REFERENCE:
        use_strided_conv2d(parts[0])
    resnet.SAFE_STRIDED_CHANNELS = math.inf if form == "subsampled" else 16
    torch.manual_seed(0)
    return project_epoch(parts, images, settings)


def print_round(index: int, results: dict[str, tuple[float, float]]) -> None:
    """The round's views per second and whether each loss equals the reference's."""
    speeds = {form: speed for form, (speed, _) in results.items()}
    same = {
        form: loss == results[REFERENCE][1]
        for form, (_, loss) in results.items()
        if form != REFERENCE
    }
    print(
        f"round {index + 1}: {compared(speeds, REFERENCE, 'views/s', ratio_digits=3)}; "
        f"the same loss as {REFERENCE}: {same}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = default_run_settings()
    images = training_images(args.images)
    print(f"{args.images} images, batch {settings['batch_size']}, {args.threads} torch thread(s)")
    for form in FORMS:  # warm-up
        epoch(images[: 2 * settings["batch_size"]], settings, form)
    variants = {form: lambda _, form=form: epoch(images, settings, form) for form in FORMS}
    results = alternate(variants, args.rounds, print_round)
    speeds = {form: [speed for speed, _ in runs] for form, runs in results.items()}
    print(f"best: {compared(best(speeds), REFERENCE, 'views/s', ratio_digits=3)}")


if __name__ == "__main__":
    main()
