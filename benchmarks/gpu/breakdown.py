"""Part 4 of the GPU check: the project's training step in parts timed alone, the augmentation
of a batch's two views (as run, and each of its operations alone) and the model's step on fixed
views in each precision, with its share of the bf16 matrix-product peak."""

import functools
import statistics

import torch
from timing import call_seconds

from sslgeom.device import configure_kernels
from sslgeom.training.loop import training_step

from .arithmetic import matmul_peak
from .sizes import BF16, COMPILED, PIPELINE_DEFAULT, Sizes
from .throughput import ProjectTraining, random_images


def step_breakdown(settings: dict, sizes: Sizes, device: torch.device) -> dict:
    """Where the project's step spends its time: the augmentation of a batch's two views (as
    the pipeline runs it, and each of its operations alone), and the model's training step on fixed
    views in each precision, with its FLOPs over the bf16 matrix-product peak. Each the median
    of ``shape.steps`` calls, synchronised, after ``warmup_steps``."""
    configure_kernels(device, deterministic=False)
    shape = sizes.shapes[0]
    images = random_images(shape.images, shape.image_size, device)
    indices = torch.arange(shape.batch, device=device)
    variants = (PIPELINE_DEFAULT, BF16) + ((COMPILED,) if sizes.compile else ())
    trainings = {
        variant.name: ProjectTraining(settings, variant, shape, images) for variant in variants
    }
    sampler = trainings[PIPELINE_DEFAULT.name].sampler
    timings = {"augmentation as run": median_seconds(lambda: sampler.pair(indices), sizes, device)}
    both_views = torch.cat(sampler.pair(indices))
    augment = sampler.augment
    for op in augment.pair_ops if sampler.batched_pairs else augment.ops:  # the ops as run
        name = f"augmentation: {type(op).__name__} alone"
        timings[name] = median_seconds(functools.partial(op, both_views), sizes, device)
    views = sampler.pair(indices)
    for name, training in trainings.items():
        step = functools.partial(
            training_step,
            training.model,
            views,
            training.method,
            training.optimizer,
            training.precision,
        )
        timings[f"model step, {name}"] = median_seconds(step, sizes, device)
    for name, seconds in timings.items():
        print(f"  {name}: {1e3 * seconds:.2f} ms")
    peak, flops = (
        matmul_peak(sizes.matmul_size, device),
        trainings[PIPELINE_DEFAULT.name].step_flops(),
    )
    fractions = {
        name: flops / seconds / peak
        for name, seconds in timings.items()
        if name.startswith("model")
    }
    print(
        f"  bf16 matmul peak {peak / 1e12:.0f} TFLOP/s; model step {flops / 1e12:.3f} TFLOP; "
        f"share of the peak: {fractions}"
    )
    return {
        "seconds": timings,
        "bf16_matmul_flops_per_s": peak,
        "step_flops": flops,
        "peak_fraction": fractions,
    }


def median_seconds(call, sizes: Sizes, device: torch.device) -> float:
    """Median wall time of ``call``, synchronised, over ``shape.steps`` calls after warm-up."""
    return statistics.median(call_seconds(call, sizes.shapes[0].steps, sizes.warmup_steps, device))
