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
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from training_setup import default_run_settings, training_images, training_parts  # noqa: E402

from sslgeom.models import resnet  # noqa: E402
from sslgeom.training.loop import train_epoch  # noqa: E402
from sslgeom.training.views import AugmentedViews  # noqa: E402

FORMS = ("as built", "strided Conv2d", "subsampled")


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
    model, augment, method, optimizer = training_parts(settings, channels_last=True)
    if form == "strided Conv2d":
        use_strided_conv2d(model)
    resnet.SAFE_STRIDED_CHANNELS = math.inf if form == "subsampled" else 16
    torch.manual_seed(0)
    batch_size = settings["batch_size"]
    sampler = AugmentedViews(images, augment)
    started = time.perf_counter()
    loss = train_epoch(model, sampler, method, optimizer, lambda _: settings["lr"], 0, batch_size)
    seconds = time.perf_counter() - started
    return 2 * (len(images) // batch_size) * batch_size / seconds, loss


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
    results = {form: [] for form in FORMS}
    for round_index in range(args.rounds):
        for form in FORMS:
            results[form].append(epoch(images, settings, form))
        reference_speed, reference_loss = results["strided Conv2d"][-1]
        print(
            f"round {round_index + 1}: "
            + "   ".join(
                f"{form} {speed:6.0f} views/s ({speed / reference_speed:.3f}×, "
                f"same loss: {loss == reference_loss})"
                for form, (speed, loss) in ((f, results[f][-1]) for f in FORMS)
            )
        )
    best = {form: max(speed for speed, _ in runs) for form, runs in results.items()}
    reference = best["strided Conv2d"]
    print(
        "best: "
        + ", ".join(
            f"{form} {speed:.0f} views/s ({speed / reference:.3f}×)" for form, speed in best.items()
        )
    )


if __name__ == "__main__":
    main()
