"""benchmarks/gpu_check.py at its small CPU sizes, so that the GPU check cannot rot: it runs
every part, its checks pass, and what it writes adds up."""

import json
import subprocess
import sys

import pytest
from conftest import REPO

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

VARIANTS = [
    "fp32 channels-last",
    "fp32 NCHW",
    "bf16 channels-last",
    "bf16 NCHW",
    "usual recipe",
]
# every run's optimizer steps: runs × epochs × (training images // batch)
PAPER_STEPS = {
    "cifar10_paper.yaml": 30 * 500 * (50_000 // 512),
    "cifar100.yaml": 15 * 500 * (50_000 // 512),
    "stl10.yaml": 15 * 1000 * (5_000 // 256),
}


@pytest.fixture(scope="module")
def check(tmp_path_factory):
    """(exit status, output, JSON) of the check on the CPU at --quick sizes."""
    out = tmp_path_factory.mktemp("gpu_check")
    command = [
        sys.executable,
        str(REPO / "benchmarks" / "gpu_check.py"),
        "--device",
        "cpu",
        "--quick",
        "--json",
        str(out / "check.json"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=out)
    output = result.stdout + result.stderr
    results = json.loads((out / "check.json").read_text()) if result.returncode == 0 else {}
    return result.returncode, output, results


def test_every_check_passes(check):
    status, output, results = check
    assert status == 0, output[-4000:]
    assert results["checks"] == {
        "every part ran": True,
        "fixture within tolerance": True,
        "resumed weights equal": True,
    }
    assert results["errors"] == {}


def test_two_cpu_processes_give_the_same_fixture_runs(check):
    (comparison,) = check[2]["fixture"].values()
    assert comparison["checked"] and comparison["passed"]
    assert comparison["max_loss_relative_difference"] == 0.0
    assert comparison["max_embedding_relative_difference"] == 0.0
    for metrics in (comparison["same_weights_metrics"], comparison["own_training_metrics"]):
        assert metrics["rows"] > 50  # the metrics and geometry of every layer of both runs
        assert metrics["max_abs_difference"] == 0.0


def test_a_killed_run_resumes_from_a_checkpoint_to_the_same_weights(check):
    resumed = check[2]["resume"]["deterministic"]
    assert resumed["killed_after"].startswith("epoch 2/8")
    assert resumed["resumed_after_epoch"] in ("1/8", "2/8")
    assert resumed["weights_equal"]
    assert resumed["max_abs_weight_difference"] == 0.0


def test_throughput_and_arithmetic_of_every_variant(check):
    results = check[2]
    throughput, arithmetic = results["throughput"], results["arithmetic"]
    assert sorted(throughput["views_per_s"]) == sorted(VARIANTS)
    assert all(rate > 0 for rates in throughput["views_per_s"].values() for rate in rates)
    assert throughput["usual_recipe"].split(",")[0] in (
        "kornia one image at a time (torchvision is missing)",
        "torchvision transforms.v2 on PIL images",
    )
    peak = arithmetic["bf16_matmul_flops_per_s"]
    for name, seconds in throughput["step_seconds"]["32"].items():
        achieved = throughput["step_flops"] / seconds
        assert arithmetic["peak_fraction"][name] == pytest.approx(achieved / peak)
    assert set(throughput["step_seconds"]["96"]) == {"fp32 channels-last", "bf16 channels-last"}


def test_breakdown_times_the_augmentation_and_the_model_step(check):
    breakdown = check[2]["breakdown"]
    assert set(breakdown["seconds"]) == {
        "augmentation as run",
        *(
            f"augmentation: {op} alone"
            for op in (
                "BatchedResizedCrop",
                "ColorJitter",
                "RandomGrayscale",
                "RandomHorizontalFlip",
            )
        ),
        "model step, fp32 channels-last",
        "model step, bf16 channels-last",
    }
    for name, fraction in breakdown["peak_fraction"].items():
        achieved = breakdown["step_flops"] / breakdown["seconds"][name]
        assert fraction == pytest.approx(achieved / breakdown["bf16_matmul_flops_per_s"])


def test_projection_counts_every_step_of_the_paper_configs(check):
    results = check[2]
    throughput = results["throughput"]
    batch = results["sizes"]["shapes"][0]["batch"]  # the measured CIFAR step's batch
    per_view = throughput["step_seconds"]["32"]["fp32 channels-last"] / (2 * batch)
    cifar10 = results["projection"]["cifar10_paper.yaml"]
    training = PAPER_STEPS["cifar10_paper.yaml"] * 2 * 512 * per_view
    checkpoints = 30 * 500 * throughput["checkpoint_seconds"]
    assert cifar10["configured"] == pytest.approx((training + checkpoints) / 3600)
    assert {name: hours["steps"] for name, hours in results["projection"].items()} == PAPER_STEPS


def test_summary_ends_the_output(check):
    output = check[1]
    summary = output[output.index("=== summary") :]
    for line in ("check: fixture within tolerance: PASS", "cifar10_paper.yaml: 30 runs"):
        assert line in summary
