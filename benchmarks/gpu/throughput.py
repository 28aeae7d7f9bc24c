"""Part 3 of the GPU check: views per second of training epochs of the measured model, the
project's ``train_epoch`` in each variant (fp32 and bf16, channels-last and NCHW, compiled)
against the usual recipe, alternating; with the host synchronisations per step, the FLOPs of a
step, a checkpoint's save time, and step times at the other image sizes."""

import os
import warnings
from pathlib import Path

import torch
from timing import alternate, best, call_seconds, compared, timed
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode
from training_setup import training_parts
from usual_recipe import loader_epoch, torchvision_or_kornia_pairs

from sslgeom.device import configure_kernels
from sslgeom.training.loop import save_atomically, train_epoch, training_step
from sslgeom.training.views import AugmentedViews

from .report import guarded
from .sizes import BF16, COMPILED, PIPELINE_DEFAULT, USUAL_RECIPE, VARIANTS, Shape, Sizes, Variant


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
        _, seconds = timed(
            lambda: train_epoch(
                self.model,
                self.sampler,
                self.method,
                self.optimizer,
                lambda _: self.lr,
                0,
                self.batch,
                self.precision,
                steps,
            ),
            self.sampler.device,
        )
        return seconds

    def step_flops(self) -> int:
        """FLOPs of one fp32 training step: forward and backward of both views and the loss."""
        views = self.sampler.pair(torch.arange(self.batch, device=self.sampler.device))
        with FlopCounterMode(display=False) as counter:
            training_step(self.eager_model, views, self.method, self.optimizer, "fp32")
        return counter.get_total_flops()

    def checkpoint_seconds(self, path: Path) -> float:
        """Best of two saves of the weights and optimizer state, as every epoch saves them."""
        state = {"model": self.eager_model.state_dict(), "optimizer": self.optimizer.state_dict()}
        return min(call_seconds(lambda: save_atomically(state, path), 2))


def warmed_up_training(settings, variant: Variant, shape: Shape, images, warmup_steps: int):
    training = ProjectTraining(settings, variant, shape, images)
    training.seconds(warmup_steps)  # cuDNN autotuning, compilation
    return training


class UsualRecipe:
    """The usual recipe: per-image augmentation in DataLoader workers, fp32 NCHW eager."""

    def __init__(self, settings: dict, shape: Shape, device: torch.device, workers: int):
        self.model, _, self.method, self.optimizer = training_parts(
            settings, False, shape.image_size, device.type
        )
        host_images = random_images(
            shape.batch * shape.steps, shape.image_size, torch.device("cpu")
        )
        pairs, self.augmentation = torchvision_or_kornia_pairs(host_images, settings["strength"])
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
        _, seconds = timed(
            lambda: loader_epoch(self.model, self.method, self.optimizer, self.loader, self.device),
            self.device,
        )
        return seconds


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
    views = 2 * shape.batch * shape.steps
    epochs = {
        name: lambda _, t=training: views / t.seconds(shape.steps)
        for name, training in trainings.items()
    }
    rates = alternate(
        epochs | {USUAL_RECIPE: lambda _: views / usual.seconds()},
        sizes.rounds,
        lambda index, rates: print(
            f"  round {index + 1}: {compared(rates, USUAL_RECIPE, 'views/s')}", flush=True
        ),
    )
    default = trainings[PIPELINE_DEFAULT.name]
    results = {
        "views_per_s": rates,
        "errors": errors,
        "usual_recipe": f"{usual.augmentation}, {workers} DataLoader workers",
        "step_flops": default.step_flops(),
        "checkpoint_seconds": default.checkpoint_seconds(workdir / "checkpoint.pt"),
        "step_seconds": {
            str(shape.image_size): {
                name: 2 * shape.batch / rate for name, rate in best(rates).items()
            }
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
