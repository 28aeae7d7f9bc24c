"""The GPU check: the CUDA path against the CPU, exact resume, and what a paper-scale run costs.

    python benchmarks/gpu_check.py [--device cuda] [--quick] [--json PATH] [--skip PART ...]

Parts (``--skip`` leaves some out):

1. fixture: the shapes runs of tests/fixtures/tiny_config.yaml (not its mnist5k runs: see
   Sizes) end to end through the library (pretrain_run, embed_run with the geometry
   extraction, analyze_run, geometry_run), first on the CPU, then on the device in two
   processes side by side: with TF32 off (checked) and with the device's default arithmetic
   (cuDNN convolutions in TF32; reported). Each device process also embeds and analyses the
   CPU's trained models. Checked: every epoch's training loss within LOSS_TOLERANCE of the
   CPU's, and every embeddings.npz array of the CPU's weights within EMBEDDING_TOLERANCE
   (relative norm of the difference): margins over what float32's different order of sums on
   two devices gives, which a wrong kernel, augmentation or misplaced tensor exceeds.
   Reported: every metric and geometry row, of the same weights against STRICT and of each
   device's own training against TF32_BAND; not checked, because on the fixture's 2-epoch
   models rounding alone moves some of them far (see gpu/fixture.py). With ``--device cpu``
   the device is a second CPU process, and every difference is 0.
2. resume: a training job (the measured model, below) is killed with SIGKILL after its second
   epoch and started again, which resumes from its checkpoint; its weights must equal those of
   an uninterrupted job bit for bit with ``compute.deterministic`` on. On a GPU the same is
   reported without it (cuDNN autotuning).
3. throughput: views per second of training epochs of the paper model (configs/cifar10_paper.yaml:
   ResNet-18, 2048-2048-128 projector, SimCLR, AdamW, batch 512, 32×32 images, augmentation
   strength 0.5): the project's ``train_epoch`` (uint8 images resident on the device, each view
   augmented there as one batch, the loss read once per epoch) in fp32 and bf16 autocast,
   channels-last and NCHW, and compiled (``torch.compile``); against the usual recipe
   (torchvision ``transforms.v2`` on PIL images one at a time in a ``Dataset``, a DataLoader
   worker per core, pinned memory, fp32, NCHW, eager; where torchvision is missing, the same
   policy in kornia one image at a time). cuDNN autotunes for all of them. Also: host
   synchronisations per step (CUDA's sync debug mode), the save time of a checkpoint, FLOPs of
   a step (``torch.utils.flop_counter``) over its time as a share of the bf16 matrix-product
   rate measured in the same process, and the GPU-hours of training each paper config (every
   run's steps times the measured time per view at its image size, plus a checkpoint save per
   epoch), as configured and with ``precision: bf16``; embedding and analyses are not counted.
4. breakdown: the step's parts timed alone: the augmentation of a batch's two views (as run,
   and each of its operations alone) and the model's training step on fixed views in fp32,
   bf16 and compiled, with its share of the bf16 peak.

``--quick`` and ``--device cpu`` use small sizes; on the CPU the default experiment's model
(config.yaml) replaces the paper model, so the projections are not the paper model's there.
The parts are modules of benchmarks/gpu/ (fixture, resume, throughput with arithmetic and
projection, breakdown; sizes holds the sizes above, report the summary). Prints each
measurement and a summary; ``--json`` writes all of it. Exits 1 if a check fails;
the targets (3× the usual recipe, 40% of the bf16 peak) are reported, not checked.
"""

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from gpu import fixture, resume  # noqa: E402
from gpu.arithmetic import arithmetic  # noqa: E402
from gpu.breakdown import step_breakdown  # noqa: E402
from gpu.projection import projections  # noqa: E402
from gpu.report import (  # noqa: E402
    check_outcomes,
    describe,
    guarded,
    print_summary,
    save_results,
    target_outcomes,
)
from gpu.sizes import Sizes, run_settings, sizes_for  # noqa: E402
from gpu.throughput import measure_throughput  # noqa: E402

from sslgeom.device import resolve_device  # noqa: E402

PARTS = ("fixture", "resume", "throughput", "breakdown")
JOBS = {"fixture": fixture.fixture_job, "pretrain": resume.pretrain_job}  # of gpu.jobs.start_job


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--workdir", type=Path, help="keep the jobs' files here")
    parser.add_argument("--skip", nargs="*", default=[], choices=PARTS, help="parts to leave out")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--job-arguments", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        JOBS[args.job](**args.job_arguments)
        return 0
    device = resolve_device(args.device)
    sizes = sizes_for(device, args.quick)
    parts = [part for part in PARTS if part not in args.skip]
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return check(device, sizes, args.workdir, args.json, parts)
    with tempfile.TemporaryDirectory() as workdir:
        return check(device, sizes, Path(workdir), args.json, parts)


def check(device, sizes: Sizes, workdir: Path, json_path: Path | None, parts: list[str]) -> int:
    """The ``parts`` of the check, one after the other; the exit status. ``json_path`` is
    rewritten after each part, so that a run cut short keeps what it measured."""
    results, errors = {"device": describe(device), "torch": torch.__version__}, {}
    results |= {"sizes": asdict(sizes), "parts": parts, "errors": errors}
    print(f"{results['device']}, torch {torch.__version__}, {sizes.model} model", flush=True)
    settings = run_settings(sizes.model)
    steps = {
        "fixture": (fixture.fixture_runs, device, sizes, workdir),
        "resume": (resume.resume_checks, device, sizes, workdir),
        "throughput": (measure_throughput, settings, sizes, device, workdir),
        "breakdown": (step_breakdown, settings, sizes, device),
    }
    for part in parts:
        guarded(results, errors, part, *steps[part])
        if part == "throughput" and "throughput" in results:
            guarded(results, errors, "arithmetic", arithmetic, results[part], sizes, device)
            guarded(results, errors, "projection", projections, results[part], sizes)
        save_results(results, json_path)
    results["checks"] = check_outcomes(results)
    results["targets"] = target_outcomes(results)
    print_summary(results)
    save_results(results, json_path)
    return 0 if all(results["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
