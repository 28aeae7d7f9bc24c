"""The GPU check's results: each part run guarded (an exception recorded, not fatal), the JSON
file, the checked outcomes and the targets, and the summary printed at the end."""

import json
import os
import time
import traceback
from pathlib import Path

import torch
from timing import best, ratios

from .sizes import USUAL_RECIPE

TARGET_SPEEDUP = 3.0
TARGET_PEAK_FRACTION = 0.4


def guarded(into: dict, errors: dict, name: str, measure, *arguments) -> None:
    """``into[name] = measure(*arguments)``, printing its wall time; an exception is recorded
    in ``errors[name]`` and printed instead of ending the check."""
    started = time.perf_counter()
    try:
        into[name] = measure(*arguments)
    except Exception:
        errors[name] = traceback.format_exc()
        print(f"{name} FAILED:\n{errors[name]}")
    print(f"[{name}: {time.perf_counter() - started:.0f} s]")


def save_results(results: dict, json_path: Path | None) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2))


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} ({device})"
    return f"CPU, {len(os.sched_getaffinity(0))} cores ({torch.backends.cpu.get_cpu_capability()})"


def check_outcomes(results: dict) -> dict[str, bool]:
    """Each checked outcome of the parts that ran."""
    outcomes = {
        "every part ran": not results["errors"] and not results.get("throughput", {}).get("errors")
    }
    if "fixture" in results:
        fixture = [c["passed"] for c in results["fixture"].values() if c["checked"]]
        outcomes["fixture within tolerance"] = fixture == [True]
    if "resume" in results:
        outcomes["resumed weights equal"] = results["resume"]["deterministic"]["weights_equal"]
    return outcomes


def target_outcomes(results: dict) -> dict:
    """Speed-ups over the usual recipe and shares of the bf16 peak: the pipeline's default
    (fp32 channels-last eager) and the best variant, against the targets."""
    rates = results.get("throughput", {}).get("views_per_s", {})
    fractions = results.get("arithmetic", {}).get("peak_fraction", {})
    if USUAL_RECIPE not in rates or not fractions:
        return {}
    speedups = ratios(best(rates), USUAL_RECIPE)
    del speedups[USUAL_RECIPE]
    best_speedup = max(speedups, key=speedups.get)
    best_fraction = max(fractions, key=fractions.get)
    return {
        "speedup": speedups,
        "best_speedup": [best_speedup, speedups[best_speedup]],
        "speedup_target_met": speedups[best_speedup] >= TARGET_SPEEDUP,
        "best_peak_fraction": [best_fraction, fractions[best_fraction]],
        "peak_fraction_target_met": fractions[best_fraction] >= TARGET_PEAK_FRACTION,
    }


def print_summary(results: dict) -> None:
    print(f"\n=== summary: {results['device']}, torch {results['torch']}")
    for name, comparison in results.get("fixture", {}).items():
        print(f"fixture {name} vs cpu: {fixture_line(comparison)}")
    for mode, resumed in results.get("resume", {}).items():
        print(
            f"resume ({mode}): killed after '{resumed['killed_after']}', resumed after epoch "
            f"{resumed['resumed_after_epoch']}, weights equal {resumed['weights_equal']} "
            f"(max |difference| {resumed['max_abs_weight_difference']:.1e}); "
            f"{resumed['last_epoch_views_per_s']:.0f} views/s in its last epoch"
        )
    print_throughput(results)
    for config, hours in results.get("projection", {}).items():
        print(
            f"{config}: {hours['runs']} runs, {hours['steps']} steps: {hours['configured']:.1f} "
            f"GPU-hours as configured, {hours['bf16']:.1f} with bf16"
        )
    for name, passed in results["checks"].items():
        print(f"check: {name}: {'PASS' if passed else 'FAIL'}")
    for name, outcome in results["targets"].items():
        print(f"target: {name}: {outcome}")


def fixture_line(comparison: dict) -> str:
    same, own = comparison["same_weights_metrics"], comparison["own_training_metrics"]
    verdict = "PASS" if comparison["passed"] else "FAIL"
    if not comparison["checked"]:
        verdict = "reported"
    return (
        f"{verdict}: epoch losses {comparison['max_loss_relative_difference']:.1e}, embeddings "
        f"of the same weights {comparison['max_embedding_relative_difference']:.1e} (relative); "
        f"their metrics: {same.get('n_out_of_tolerance')} of {same.get('rows')} rows off by more "
        f"than {same.get('tolerance')}; own training's metrics: {own.get('n_out_of_tolerance')} "
        f"off by more than {own.get('tolerance')}, largest {own.get('max_abs_difference', 0):.3g} "
        f"({own.get('max_at')})"
    )


def print_throughput(results: dict) -> None:
    throughput, speedups = results.get("throughput", {}), results["targets"].get("speedup", {})
    fractions = results.get("arithmetic", {}).get("peak_fraction", {})
    if not throughput:
        return
    print(f"usual recipe: {throughput['usual_recipe']}")
    print(f"{'variant':<28s} {'views/s':>9s} {'× usual':>8s} {'of bf16 peak':>13s}")
    for name, rate in best(throughput["views_per_s"]).items():
        speedup = speedups.get(name, 1.0)
        print(f"{name:<28s} {rate:9.0f} {speedup:8.2f} {100 * fractions.get(name, 0):12.1f}%")
    print(
        f"checkpoint save {throughput['checkpoint_seconds']:.3f} s; host syncs per step: "
        f"{throughput.get('host_syncs', 'n/a (CPU)')}"
    )
