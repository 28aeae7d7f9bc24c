"""Arithmetic efficiency: achieved FLOP/s of a training step over the machine's matmul peak.

    python benchmarks/arithmetic_efficiency.py [--steps 6] [--cores N] [--encoder-width W]

The FLOPs of one training step of the default run (forward and backward of encoder and
projector, both views of a batch) are counted with ``torch.utils.flop_counter``; the step
(batched augmentation, forward, backward, optimizer) is timed as the project runs it. The peak
is the best FLOP/s of a 4096² matmul in the same process and dtype. fp32 always; bf16
(autocast on the step, a bf16 matmul for the peak) too, where the CPU has native bf16.

Two layouts of the ``--cores`` cores: one process with N threads, and N one-thread processes
stepping at the same time, as ``snakemake --cores N`` runs N one-thread training jobs side by
side (their FLOP/s summed; the peak is the matmul's with N threads either way).
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from training_setup import default_run_settings, training_images, training_parts  # noqa: E402

from sslgeom import train  # noqa: E402
from sslgeom.augment import to_float_images  # noqa: E402

MATMUL_SIZE = 4096


def matmul_peak(dtype: torch.dtype, repeats: int = 5) -> float:
    """Best FLOP/s of an n × n matmul."""
    a, b = (torch.randn(MATMUL_SIZE, MATMUL_SIZE).to(dtype) for _ in range(2))
    a @ b
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * MATMUL_SIZE**3 / best


def training_step(parts, batch: torch.Tensor, precision: str) -> torch.Tensor:
    model, augment, loss_fn, optimizer = parts
    return train.training_step(model, batch, augment, loss_fn, optimizer, precision)


def step_inputs(settings: dict, threads: int) -> tuple:
    """(batch, training parts) of the run, with torch on ``threads`` threads."""
    torch.set_num_threads(threads)
    batch = to_float_images(training_images(settings["batch_size"]))
    return batch, training_parts(settings, channels_last=True)


def step_flops(parts, batch: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        training_step(parts, batch, "fp32")
    return counter.get_total_flops()


def step_seconds(parts, batch, precision: str, steps: int) -> float:
    training_step(parts, batch, precision)  # warm-up
    started = time.perf_counter()
    for _ in range(steps):
        training_step(parts, batch, precision)
    return (time.perf_counter() - started) / steps


def concurrent_step_seconds(settings, threads, precision, steps, processes) -> float:
    """Mean step time of ``processes`` training processes stepping at the same time."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(
            target=_worker_step_seconds,
            args=(settings, threads, precision, steps, barrier, results),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    times = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return sum(times) / processes


def _worker_step_seconds(settings, threads, precision, steps, barrier, results) -> None:
    batch, parts = step_inputs(settings, threads)
    training_step(parts, batch, precision)
    barrier.wait()
    results.put(step_seconds(parts, batch, precision, steps))


def has_native_bf16() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--encoder-width", type=int, help="default: the default run's")
    args = parser.parse_args()
    settings = default_run_settings()
    if args.encoder_width is not None:
        settings["encoder_width"] = args.encoder_width
    batch, parts = step_inputs(settings, args.cores)
    flops = step_flops(parts, batch)
    print(
        f"default run, encoder width {settings['encoder_width']}: batch {settings['batch_size']} "
        f"(×2 views), {flops / 1e9:.2f} GFLOP per "
        f"training step; {args.cores} cores; CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}"
    )
    dtypes = [("fp32", torch.float32)]
    if has_native_bf16():
        dtypes.append(("bf16", torch.bfloat16))
    else:
        print("bf16: this CPU has no native bf16 (avx512_bf16/amx_bf16), not measured")
    layouts = [(1, args.cores)] + ([(args.cores, 1)] if args.cores > 1 else [])
    for precision, dtype in dtypes:
        peak = matmul_peak(dtype)
        print(
            f"{precision}: {MATMUL_SIZE}² matmul peak on {args.cores} cores "
            f"{peak / 1e9:.1f} GFLOP/s"
        )
        for processes, threads in layouts:
            if processes == 1:
                seconds = step_seconds(parts, batch, precision, args.steps)
            else:
                seconds = concurrent_step_seconds(
                    settings, threads, precision, args.steps, processes
                )
            achieved = processes * flops / seconds
            print(
                f"  {processes} process(es) × {threads} thread(s): step {seconds * 1e3:.0f} ms, "
                f"achieved {achieved / 1e9:.1f} GFLOP/s, efficiency {100 * achieved / peak:.1f}%"
            )


if __name__ == "__main__":
    main()
