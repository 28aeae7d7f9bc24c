"""Faults through Snakemake: a killed training job resumes to identical results, runs are
deterministic, a diverged run stops cleanly, and corrupt artifacts name the fix."""

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import torch
import yaml
from conftest import REPO, snakemake, snakemake_command

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

CONFIG = REPO / "tests" / "fixtures" / "reliability_config.yaml"
RUN = "dataset~shapes/strength~0.5/seed~0"
RUN_DIR = Path("results/rel/runs") / RUN
TARGET = "results/rel/metrics.csv"


def prepare(workdir: Path, **settings) -> Path:
    config = yaml.safe_load(CONFIG.read_text())
    config["experiments"]["rel"]["settings"].update(settings)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def run_pipeline(workdir: Path, *extra: str, check: bool = True):
    return snakemake(
        TARGET, "--cores", "1", "--configfile", "config.yaml", *extra, workdir=workdir, check=check
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted run of both seeds."""
    workdir = prepare(tmp_path_factory.mktemp("reference"))
    run_pipeline(workdir)
    return workdir


def kill_training_after_first_checkpoint(workdir: Path) -> subprocess.Popen:
    """Start the pipeline and SIGKILL the training job once its first checkpoint exists."""
    command = snakemake_command(
        TARGET, "--cores", "1", "--configfile", "config.yaml", workdir=workdir
    )
    pipeline = subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    checkpoint = workdir / RUN_DIR / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert time.monotonic() < deadline and pipeline.poll() is None, "no checkpoint appeared"
        time.sleep(0.05)
    jobs = [
        p
        for p in psutil.Process(pipeline.pid).children(recursive=True)
        if any("pretrain.py" in part for part in p.cmdline())
    ]
    assert jobs, "the training job was not found"
    for job in jobs:
        job.send_signal(signal.SIGKILL)
    pipeline.communicate(timeout=120)
    return pipeline


def state_dicts_equal(first: Path, second: Path) -> bool:
    a = torch.load(first, weights_only=True)["model"]
    b = torch.load(second, weights_only=True)["model"]
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


def test_killed_training_resumes_to_identical_weights_and_metrics(reference, tmp_path):
    workdir = prepare(tmp_path)
    killed = kill_training_after_first_checkpoint(workdir)
    assert killed.returncode != 0
    assert not (workdir / RUN_DIR / "model.pt").exists()
    resumed = run_pipeline(workdir)
    assert "resuming from" in resumed.stdout + resumed.stderr
    assert state_dicts_equal(workdir / RUN_DIR / "model.pt", reference / RUN_DIR / "model.pt")
    assert (workdir / TARGET).read_bytes() == (reference / TARGET).read_bytes()


def test_different_seeds_give_different_runs(reference):
    metrics = pd.read_csv(reference / TARGET)
    by_seed = metrics.pivot_table(index=["layer", "metric"], columns="seed", values="value")
    assert not by_seed[0].equals(by_seed[1])


def test_diverged_run_stops_naming_run_and_epoch(tmp_path):
    workdir = prepare(tmp_path, lr=1.0e30)
    result = run_pipeline(workdir, check=False)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert re.search(
        r"run rel/dataset~shapes/strength~0\.5/seed~\d: training diverged in epoch 1", log
    )
    produced = [p.name for p in (workdir / "results/rel").rglob("*") if p.is_file()]
    assert not {"model.pt", "embeddings.npz", "metrics.csv"} & set(produced)


@pytest.mark.parametrize(
    ("artifact", "rule"), [("embeddings.npz", "embed"), ("model.pt", "pretrain")]
)
def test_truncated_artifact_names_the_file_and_the_rebuild_command(
    reference, tmp_path, artifact, rule
):
    workdir = tmp_path / "copy"
    shutil.copytree(reference, workdir)
    path = workdir / RUN_DIR / artifact
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    downstream = {"embeddings.npz": "metrics.csv", "model.pt": "embeddings.npz"}[artifact]
    (workdir / RUN_DIR / downstream).unlink()
    failed = run_pipeline(workdir, check=False)
    assert failed.returncode != 0
    expected_hint = f"--forcerun {rule} {RUN_DIR / artifact}"
    assert expected_hint in failed.stdout + failed.stderr
    run_pipeline(workdir, "--forcerun", rule)
    assert (workdir / TARGET).read_bytes() == (reference / TARGET).read_bytes()
