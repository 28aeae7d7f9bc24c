"""bf16 autocast against fp32 on the default run: speed, and loss curves that agree within noise.

    python benchmarks/precision.py [--seeds 0 1] [--threads 1]

Trains the default config's shapes run at strength 0.5 (its full settings and training-set
size) once per seed and precision, in this process, alternating the precisions, and prints the
loss of every epoch, the largest fp32 − bf16 difference of one seed next to the largest
difference between seeds in fp32 (the noise a rerun with another seed shows), and the
training time of each precision.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from timing import alternate, compared, timed  # noqa: E402
from training_setup import default_run_settings, training_images, training_parts  # noqa: E402

from sslgeom.training.loop import AUTOCAST_DTYPES, pretrain  # noqa: E402
from sslgeom.training.views import AugmentedViews  # noqa: E402

PRECISIONS = list(AUTOCAST_DTYPES)
N_TRAIN = 4000


def train_losses(settings: dict, images: torch.Tensor, precision: str) -> tuple[list, float]:
    """(loss of each epoch, seconds) of one seeded run; prints both."""
    model, augment, method, optimizer = training_parts(settings, channels_last=True)
    with tempfile.TemporaryDirectory() as folder:
        (history, _), seconds = timed(
            lambda: pretrain(
                model=model,
                sampler=AugmentedViews(images, augment),
                method=method,
                optimizer=optimizer,
                epochs=settings["epochs"],
                batch_size=settings["batch_size"],
                base_lr=settings["lr"],
                warmup_epochs=settings["warmup_epochs"],
                checkpoint_path=Path(folder) / "checkpoint.pt",
                fingerprint="benchmark",
                precision=precision,
                log=lambda line: None,
            )
        )
    losses = [row["loss"] for row in history]
    curve = " ".join(f"{loss:.4f}" for loss in losses)
    print(
        f"seed {settings['seed']} {precision}: {seconds:5.1f} s, loss by epoch {curve}", flush=True
    )
    return losses, seconds


def largest_difference(curve: list[float], other: list[float]) -> float:
    return max(abs(a - b) for a, b in zip(curve, other, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = training_images(N_TRAIN)
    variants = {  # each round a seed
        precision: lambda index, precision=precision: train_losses(
            default_run_settings() | {"seed": args.seeds[index]}, images, precision
        )
        for precision in PRECISIONS
    }
    runs = alternate(variants, len(args.seeds))
    losses = {
        (seed, precision): runs[precision][index][0]
        for index, seed in enumerate(args.seeds)
        for precision in PRECISIONS
    }
    for seed in args.seeds:
        gap = largest_difference(losses[seed, "fp32"], losses[seed, "bf16"])
        print(f"seed {seed}: largest |fp32 − bf16| loss difference {gap:.4f}")
    if len(args.seeds) > 1:
        first, second = args.seeds[:2]
        noise = largest_difference(losses[first, "fp32"], losses[second, "fp32"])
        print(f"fp32, seed {first} vs {second}: largest loss difference {noise:.4f} (the noise)")
    seconds = {precision: sum(run[1] for run in runs[precision]) for precision in PRECISIONS}
    print(f"training time: {compared(seconds, 'bf16', 's', digits=1)} ({args.threads} thread(s))")


if __name__ == "__main__":
    main()
