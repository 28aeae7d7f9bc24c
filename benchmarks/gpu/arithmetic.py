"""The GPU check's arithmetic: the bf16 matrix-product peak, measured in the same process, and
each variant's FLOP/s (the step's FLOPs over its time) as a share of it."""

import statistics

import torch
from timing import call_seconds

from .sizes import Sizes


def matmul_peak(size: int, device: torch.device, repeats: int = 10) -> float:
    """FLOP/s of a size³ bf16 matrix product on random data: the median of 5 timings of
    ``repeats`` back-to-back products, after 3 untimed."""
    a, b = (torch.randn(size, size, device=device, dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b

    def products() -> None:
        for _ in range(repeats):
            a @ b

    seconds = call_seconds(products, 5, device=device)
    return statistics.median(repeats * 2 * size**3 / each for each in seconds)


def arithmetic(throughput: dict, sizes: Sizes, device: torch.device) -> dict:
    """Each variant's FLOP/s (the step's FLOPs over its time) and share of the bf16 peak."""
    peak = matmul_peak(sizes.matmul_size, device)
    flops = throughput["step_flops"]
    step_seconds = throughput["step_seconds"][str(sizes.shapes[0].image_size)]
    achieved = {name: flops / seconds for name, seconds in step_seconds.items()}
    print(
        f"bf16 {sizes.matmul_size}³ matrix product: {peak / 1e12:.1f} TFLOP/s; "
        f"training step {flops / 1e12:.3f} TFLOP"
    )
    return {
        "bf16_matmul_flops_per_s": peak,
        "flops_per_s": achieved,
        "peak_fraction": {name: rate / peak for name, rate in achieved.items()},
    }
