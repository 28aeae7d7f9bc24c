"""Timing shared by the benchmarks: wall times of calls (synchronised on a GPU), named variants
run alternately for some rounds so that machine noise hits them alike, and the best of each
with its ratio to a reference."""

import time
from collections.abc import Callable, Mapping
from typing import TypeVar

Result = TypeVar("Result")


def synchronize(device) -> None:
    """Wait for the work queued on ``device`` (a ``torch.device``, or None): a CUDA device's;
    nothing elsewhere."""
    if device is not None and device.type == "cuda":
        import torch  # only here: the benchmarks without torch do not load it

        torch.cuda.synchronize(device)


def timed(call: Callable[[], Result], device=None) -> tuple[Result, float]:
    """(what ``call()`` returns, its wall time in seconds), synchronised on ``device`` before
    and after."""
    synchronize(device)
    started = time.perf_counter()
    result = call()
    synchronize(device)
    return result, time.perf_counter() - started


def call_seconds(call: Callable[[], object], calls: int, warmup: int = 0, device=None) -> list:
    """The wall time of each of ``calls`` calls of ``call``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    return [timed(call, device)[1] for _ in range(calls)]


def alternate(
    variants: Mapping[str, Callable[[int], Result]],
    rounds: int,
    after_round: Callable[[int, dict[str, Result]], None] | None = None,
) -> dict[str, list[Result]]:
    """name → result of each round: every round calls each variant once, in order, with the
    round's index (from 0); ``after_round(index, name → result of the round)`` follows each."""
    results = {name: [] for name in variants}
    for index in range(rounds):
        for name, variant in variants.items():
            results[name].append(variant(index))
        if after_round is not None:
            after_round(index, {name: values[-1] for name, values in results.items()})
    return results


def best(results: Mapping[str, list[float]]) -> dict[str, float]:
    """name → the largest of its results (of rates: the fastest round)."""
    return {name: max(values) for name, values in results.items()}


def ratios(values: Mapping[str, float], reference: str) -> dict[str, float]:
    """name → its value over the value of ``reference``."""
    return {name: value / values[reference] for name, value in values.items()}


def compared(
    values: Mapping[str, float], reference: str, unit: str, digits: int = 0, ratio_digits: int = 2
) -> str:
    """'name value unit (ratio× reference)' of each value, the ratio left out for the
    reference itself; comma-separated."""
    return ", ".join(
        f"{name} {values[name]:.{digits}f} {unit}"
        + ("" if name == reference else f" ({ratio:.{ratio_digits}f}× {reference})")
        for name, ratio in ratios(values, reference).items()
    )
