"""Arithmetic efficiency: achieved FLOP/s of a training step over the machine's matmul peak.

    python benchmarks/arithmetic_efficiency.py [--steps 6] [--cores N] [--encoders 16/2 8/1]

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
import functools
import multiprocessing
import os
import statistics
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from timing import call_seconds  # noqa: E402
from training_setup import default_run_settings, training_images, training_parts  # noqa: E402

from sslgeom.training import loop  # noqa: E402
from sslgeom.training.augment import to_float_images  # noqa: E402

MATMUL_SIZE = 4096


def matmul_peak(dtype: torch.dtype, repeats: int = 5) -> float:
    """Best FLOP/s of an n × n matmul."""
    a, b = (torch.randn(MATMUL_SIZE, MATMUL_SIZE).to(dtype) for _ in range(2))
    return 2 * MATMUL_SIZE**3 / min(call_seconds(lambda: a @ b, repeats, warmup=1))


def training_step(parts, batch: torch.Tensor, precision: str) -> torch.Tensor:
    model, augment, method, optimizer = parts
    views = augment(batch), augment(batch)
    return loop.training_step(model, views, method, optimizer, precision)


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
    """Mean time of ``steps`` training steps, after one untimed."""
    step = functools.partial(training_step, parts, batch, precision)
    return statistics.fmean(call_seconds(step, steps, warmup=1))


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


def encoder_settings(settings: dict, encoder: str) -> dict:
    """The run's settings with the encoder ``WIDTH/STEM_STRIDE``."""
    width, stride = (int(part) for part in encoder.split("/"))
    return settings | {"encoder_width": width, "encoder_stem_stride": stride}


def default_encoders(settings: dict) -> list[str]:
    """The default run's encoder and, if its stem has stride 2, the CIFAR stem (stride 1) at
    half the width: the same convolution FLOPs."""
    width, stride = settings["encoder_width"], settings["encoder_stem_stride"]
    encoders = [f"{width}/{stride}"]
    if stride == 2 and width % 2 == 0:
        encoders.append(f"{width // 2}/1")
    return encoders


def measure_encoder(settings: dict, cores: int, steps: int, precisions: dict) -> dict:
    """Step seconds of each (precision, processes) for one encoder; prints each line."""
    batch, parts = step_inputs(settings, cores)
    flops = step_flops(parts, batch)
    print(
        f"encoder width {settings['encoder_width']}, stem stride "
        f"{settings['encoder_stem_stride']}: batch {settings['batch_size']} (×2 views), "
        f"{flops / 1e9:.2f} GFLOP per training step"
    )
    layouts = [(1, cores)] + ([(cores, 1)] if cores > 1 else [])
    seconds = {}
    for precision, peak in precisions.items():
        for processes, threads in layouts:
            if processes == 1:
                step = step_seconds(parts, batch, precision, steps)
            else:
                step = concurrent_step_seconds(settings, threads, precision, steps, processes)
            seconds[precision, processes] = step
            achieved = processes * flops / step
            print(
                f"  {precision}, {processes} process(es) × {threads} thread(s): step "
                f"{step * 1e3:.0f} ms, achieved {achieved / 1e9:.1f} GFLOP/s, efficiency "
                f"{100 * achieved / peak:.1f}% of the {precision} peak"
            )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument(
        "--encoders",
        nargs="+",
        metavar="WIDTH/STEM_STRIDE",
        help="encoders to measure side by side (default: the default run's, and the stride-1 "
        "stem at half its width, which costs the same FLOPs)",
    )
    args = parser.parse_args()
    settings = default_run_settings()
    torch.set_num_threads(args.cores)
    print(f"{args.cores} cores; CPU capability {torch.backends.cpu.get_cpu_capability()}")
    dtypes = {"fp32": torch.float32}
    if has_native_bf16():
        dtypes["bf16"] = torch.bfloat16
    else:
        print("bf16: this CPU has no native bf16 (avx512_bf16/amx_bf16), not measured")
    peaks = {precision: matmul_peak(dtype) for precision, dtype in dtypes.items()}
    for precision, peak in peaks.items():
        print(f"{precision}: {MATMUL_SIZE}² matmul peak {peak / 1e9:.1f} GFLOP/s")
    encoders = args.encoders or default_encoders(settings)
    seconds = {
        encoder: measure_encoder(encoder_settings(settings, encoder), args.cores, args.steps, peaks)
        for encoder in encoders
    }
    first = encoders[0]
    for encoder in encoders[1:]:
        ratios = ", ".join(
            f"{precision} × {n} process(es) {seconds[encoder][precision, n] / step:.2f}"
            for (precision, n), step in seconds[first].items()
        )
        print(f"step time of encoder {encoder} / encoder {first}: {ratios}")


if __name__ == "__main__":
    main()
