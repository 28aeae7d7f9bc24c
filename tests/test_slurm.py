"""The SLURM profile against a real one-node SLURM cluster on this machine.

`.ci/slurm.sh up` installs and starts munged, slurmctld and slurmd (root and apt needed) and
writes /etc/slurm/slurm.conf, so it runs only where asked: SSLGEOM_REQUIRE_SLURM=1 (as in
.ci/run) starts the cluster and fails where that is impossible; without it the tests skip.
One run of tests/fixtures/slurm_config.yaml goes through
`snakemake --workflow-profile profiles/slurm`: its training job is cancelled with scancel
mid-run, the rerun completes it, and its tables must equal a local run's.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake_command

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

SLURM_SCRIPT = REPO / ".ci" / "slurm.sh"
SLURM_CONF = Path("/etc/slurm/slurm.conf")
PROFILE = REPO / "profiles" / "slurm"
CONFIG = REPO / "tests" / "fixtures" / "slurm_config.yaml"
RUN = "dataset~shapes/strength~0.5/seed~0"
TARGETS = ["results/cluster/metrics.csv", "results/cluster/geometry.csv"]
GPU_RULES = {"pretrain", "embed"}
TEST_MEM_MB = 2000
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+)")


def cluster_overrides() -> list[str]:
    """What a 2-core test node needs on top of the profile.

    A key on the command line replaces the profile's key as a whole, so the profile's
    per-rule resources (partitions, GPUs) are passed on with only their memory shrunk, and
    every job gets one thread, as in the local run (the results must match to the bit).
    """
    profile = yaml.safe_load((PROFILE / "config.v8+.yaml").read_text())
    resources = [
        f"{rule}:{key}={TEST_MEM_MB if key == 'mem_mb' else value}"
        for rule, settings in profile["set-resources"].items()
        for key, value in settings.items()
    ]
    threads = [f"{rule}=1" for rule in profile["set-threads"]]
    return [
        "--slurm-status-command=squeue",  # no accounting database, so no sacct
        "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks=2",
        "--latency-wait=5",
        "--verbose",  # the log then shows every sbatch call
        "--set-resources",
        *resources,
        "--set-threads",
        *threads,
    ]


def cluster_command(workdir) -> list[str]:
    return snakemake_command(
        *TARGETS,
        "--workflow-profile",
        str(PROFILE),
        *cluster_overrides(),
        "--configfile",
        str(CONFIG),
        workdir=workdir,
    )


def environment() -> dict[str, str]:
    """The jobs inherit it (sbatch --export=ALL): they import this checkout's library."""
    path = os.pathsep.join(p for p in (str(REPO / "workflow"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def slurm_jobs(job_ids: list[str]) -> dict[str, dict[str, str]]:
    """SLURM's own record of each job (slurmctld keeps finished jobs for MinJobAge)."""
    jobs = {}
    for job_id in job_ids:
        result = subprocess.run(
            ["scontrol", "--oneliner", "show", "job", job_id], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        jobs[job_id] = dict(field.split("=", 1) for field in result.stdout.split() if "=" in field)
    return jobs


def rule_of(job: dict[str, str]) -> str:
    """The rule a job ran, from the comment the plugin gives it: rule_<name>_wildcards_..."""
    return re.match(r"rule_(.+?)_wildcards", job["Comment"]).group(1)


@pytest.fixture(scope="module")
def slurm_cluster():
    required = os.environ.get("SSLGEOM_REQUIRE_SLURM") == "1"

    def unavailable(reason):
        pytest.fail(f"SSLGEOM_REQUIRE_SLURM=1, but {reason}")

    if not required:
        pytest.skip("set SSLGEOM_REQUIRE_SLURM=1 to start a one-node SLURM cluster on this machine")
    if os.geteuid() != 0:
        unavailable("starting slurmctld and slurmd needs root")
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        unavailable("SLURM is not installed and there is no apt-get to install it")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        unavailable("snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')")
    up = subprocess.run(["bash", str(SLURM_SCRIPT), "up"], capture_output=True, text=True)
    if up.returncode != 0:
        subprocess.run(["bash", str(SLURM_SCRIPT), "down"], capture_output=True)
        unavailable(f".ci/slurm.sh up failed:\n{up.stdout}\n{up.stderr}")
    yield
    subprocess.run(["bash", str(SLURM_SCRIPT), "down"], check=True)
    # a slurm.conf left behind would make every later Snakemake start wait for the controller
    assert not SLURM_CONF.exists() or "sslgeom" not in SLURM_CONF.read_text()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("local")
    command = snakemake_command(
        *TARGETS, "--cores", "2", "--configfile", str(CONFIG), workdir=workdir
    )
    result = subprocess.run(command, cwd=workdir, env=environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir


@pytest.fixture(scope="module")
def cluster_run(slurm_cluster, tmp_path_factory):
    """Submit the run, scancel its training job after the first checkpoint, then rerun."""
    workdir = tmp_path_factory.mktemp("cluster")
    checkpoint = workdir / f"results/cluster/runs/{RUN}/checkpoint.pt"
    first_log = workdir / "first.log"
    with first_log.open("w") as log:
        first = subprocess.Popen(
            cluster_command(workdir),
            cwd=workdir,
            env=environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            while not checkpoint.exists():
                assert first.poll() is None, f"Snakemake ended early:\n{first_log.read_text()}"
                assert time.monotonic() < deadline, "no checkpoint after 300 s"
                time.sleep(0.1)
            running = subprocess.run(
                ["squeue", "--noheader", "--states=RUNNING", "--format=%i %k"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split("\n")
            cancelled = [line.split()[0] for line in running if " rule_pretrain_" in line]
            assert len(cancelled) == 1, running
            subprocess.run(["scancel", cancelled[0]], check=True)
            first.wait(timeout=300)
        finally:
            if first.poll() is None:  # a failed check above: stop it (it cancels its jobs)
                first.terminate()
                first.wait(timeout=120)
    first_jobs = slurm_jobs(SUBMITTED.findall(first_log.read_text()))
    rerun = subprocess.run(
        cluster_command(workdir),
        cwd=workdir,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    rerun_log = rerun.stdout + rerun.stderr
    return {
        "workdir": workdir,
        "first_returncode": first.returncode,
        "first_log": first_log.read_text(),
        "first_jobs": first_jobs,
        "cancelled": cancelled[0],
        "rerun_returncode": rerun.returncode,
        "rerun_log": rerun_log,
        "rerun_jobs": slurm_jobs(SUBMITTED.findall(rerun_log)),
    }


def test_cancelled_training_job_fails_the_run(cluster_run):
    job_id = cluster_run["cancelled"]
    log = cluster_run["first_log"]
    assert cluster_run["first_returncode"] != 0, log
    assert f"SLURM-job '{job_id}' failed, SLURM status is: 'CANCELLED'" in log, log
    assert "Error in rule pretrain" in log, log
    assert cluster_run["first_jobs"][job_id]["JobState"] == "CANCELLED"


def test_rerun_resumes_training_and_completes(cluster_run):
    assert cluster_run["rerun_returncode"] == 0, cluster_run["rerun_log"]
    pretrain_log = (cluster_run["workdir"] / f"results/cluster/logs/pretrain/{RUN}.log").read_text()
    resumed = re.search(r"resuming from \S+ after epoch (\d+)/16", pretrain_log)
    assert resumed, pretrain_log
    assert 1 <= int(resumed.group(1)) < 16
    for target in TARGETS:
        assert (cluster_run["workdir"] / target).stat().st_size > 0


def test_every_job_went_through_sbatch(cluster_run):
    """SLURM itself ran each job to completion, GPU rules on the gpu partition with a GPU."""
    jobs = cluster_run["rerun_jobs"]
    assert sorted(rule_of(job) for job in jobs.values()) == sorted(
        ["pretrain", "embed", "geometry", "analyze_run", "collect_table", "collect_table"]
    ), cluster_run["rerun_log"]
    assert "make_dataset" in {rule_of(job) for job in cluster_run["first_jobs"].values()}
    for job in jobs.values():
        assert job["JobState"] == "COMPLETED"
        assert job["WorkDir"] == str(cluster_run["workdir"])
        if rule_of(job) in GPU_RULES:
            assert job["Partition"] == "gpu"
            assert job["TresPerJob"] == "gres:gpu:1"  # sbatch --gpus=1
        else:
            assert job["Partition"] == "cpu"


def test_outputs_equal_a_local_run(cluster_run, local_run):
    for target in [*TARGETS, f"results/cluster/runs/{RUN}/jacobian_spectrum.csv"]:
        pd.testing.assert_frame_equal(
            pd.read_csv(cluster_run["workdir"] / target), pd.read_csv(local_run / target)
        )
    train_log = f"results/cluster/runs/{RUN}/train_log.csv"
    columns = ["epoch", "loss", "lr"]  # the resumed training took the same steps
    pd.testing.assert_frame_equal(
        pd.read_csv(cluster_run["workdir"] / train_log)[columns],
        pd.read_csv(local_run / train_log)[columns],
    )
