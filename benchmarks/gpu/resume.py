"""Part 2 of the GPU check: a training job killed with SIGKILL after an epoch and started again
resumes from its checkpoint to the weights of an uninterrupted job, bit for bit with
``compute.deterministic`` on (checked) and, on a GPU, without it (reported)."""

import csv
import subprocess
from pathlib import Path

import torch

from sslgeom.data import build_dataset, save_dataset
from sslgeom.training.run import pretrain_run

from .jobs import finish_job, start_job
from .sizes import Sizes, run_settings

KILL_AFTER_EPOCH = 2


def pretrain_job(folder: str, settings: dict, dataset: str, device: str, deterministic: bool):
    """pretrain_run of the run ``settings`` into ``folder``."""
    root = Path(folder)
    model, train_log, checkpoint = root / "model.pt", root / "train_log.csv", root / "c.pt"
    pretrain_run(
        "resume", settings, dataset, model, train_log, checkpoint, device, 1, deterministic
    )


def resume_checks(device: torch.device, sizes: Sizes, workdir: Path) -> dict:
    """Kill-and-resume with ``compute.deterministic`` on (checked) and, on a GPU, off."""
    folder = workdir / "resume"
    dataset = folder / "shapes.npz"
    save_dataset(build_dataset("shapes", n_train=sizes.resume_images, n_test=16, seed=0), dataset)
    settings = run_settings(sizes.model) | {
        "epochs": sizes.resume_epochs,
        "batch_size": sizes.resume_batch,
    }
    modes = {"deterministic": True} | ({"default": False} if device.type == "cuda" else {})
    results = {}
    for mode, deterministic in modes.items():
        arguments = {
            "settings": settings,
            "dataset": str(dataset),
            "device": str(device),
            "deterministic": deterministic,
        }
        results[mode] = resume_check(folder / mode, arguments)
        print(f"resume ({mode}): {results[mode]}")
    return results


def resume_check(folder: Path, arguments: dict) -> dict:
    """Kill a training job after epoch KILL_AFTER_EPOCH and start it again; compare its final
    weights with those of an uninterrupted job, which runs beside the killed one."""
    uninterrupted, resumed = folder / "uninterrupted", folder / "resumed"
    for path in (uninterrupted, resumed):
        path.mkdir(parents=True)
    log = folder / "uninterrupted.log"
    reference = start_job("pretrain", arguments | {"folder": str(uninterrupted)}, log)
    killed_after = run_until_killed(
        start_job("pretrain", arguments | {"folder": str(resumed)}, None)
    )
    finish_job(reference, log)
    resumed_log = folder / "resumed.log"
    finish_job(
        start_job("pretrain", arguments | {"folder": str(resumed)}, resumed_log), resumed_log
    )
    resuming = [
        line for line in resumed_log.read_text().splitlines() if line.startswith("resuming")
    ]
    if not resuming:
        raise RuntimeError(f"the restarted job did not resume from a checkpoint, see {resumed_log}")
    return {
        "killed_after": killed_after,
        "resumed_after_epoch": resuming[0].split(" after epoch ")[-1],
        "last_epoch_views_per_s": last_epoch_views_per_s(uninterrupted / "train_log.csv"),
        **compare_weights(uninterrupted / "model.pt", resumed / "model.pt"),
    }


def last_epoch_views_per_s(train_log: Path) -> float:
    """The training log's views/s of the last epoch (a rough rate: a short epoch)."""
    with open(train_log, newline="") as file:
        return float(list(csv.DictReader(file))[-1]["views_per_s"])


def run_until_killed(process: subprocess.Popen) -> str:
    """Read the job's output until its line for epoch KILL_AFTER_EPOCH, SIGKILL it, and return
    that line; raise if the job ended first (nothing would be resumed)."""
    marker, lines = f"epoch {KILL_AFTER_EPOCH}/", []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(marker):
            break
    if not lines[-1:] or not lines[-1].startswith(marker) or process.poll() is not None:
        process.kill()
        raise RuntimeError("the job ended before it could be killed:\n" + "".join(lines[-20:]))
    process.kill()
    process.wait()
    process.stdout.close()
    return lines[-1].strip()


def compare_weights(reference_path: Path, other_path: Path) -> dict:
    reference = torch.load(reference_path, map_location="cpu", weights_only=True)["model"]
    other = torch.load(other_path, map_location="cpu", weights_only=True)["model"]
    largest = max(
        (value.double() - other[name].double()).abs().max().item()
        for name, value in reference.items()
        if value.is_floating_point()
    )
    equal = all(torch.equal(value, other[name]) for name, value in reference.items())
    return {"weights_equal": equal, "max_abs_weight_difference": largest}
