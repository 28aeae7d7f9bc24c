"""Datasets of your own through the whole DAG: a folder of grayscale PNGs and an npz file with
latents train, embed, analyse and draw; editing one source reruns only what depends on it; a
bad source stops Snakemake before any job, with nothing under results/."""

import os
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import snakemake
from PIL import Image
from test_workflow import planned_jobs

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

TARGETS = [
    "results/own/claims.csv",
    "results/own/figures/augmentations.png",
    "results/own/figures/tangent_angles.png",
]
LATENT_NAMES = ("brightness", "bar_x")


def write_folder(root, n_per_class=32, size=16, seed=0):
    """Three classes of grayscale images: noise around a class-specific brightness."""
    rng = np.random.default_rng(seed)
    # "{bright}" in a path is what Snakemake reads as a wildcard
    for label, name in enumerate(("dark", "mid", "light {bright}")):
        (root / name).mkdir(parents=True)
        for index in range(n_per_class):
            pixels = rng.normal(60 + 70 * label, 25, (size, size)).clip(0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{index:02d}.png")


def write_npz(path, n=128, size=16, seed=0):
    """RGB images of a vertical bar: its brightness and column are the latents; the label says
    whether the bar is in the left half."""
    rng = np.random.default_rng(seed)
    brightness = rng.uniform(0.3, 1.0, n)
    bar_x = rng.integers(0, size, n)
    images = np.zeros((n, size, size, 3), np.uint8)
    images[np.arange(n), :, bar_x] = (255 * brightness)[:, None, None]
    np.savez(
        path,
        images=images,
        labels=(bar_x < size // 2).astype(np.int64),
        latents=np.column_stack([brightness, bar_x]),
        latent_names=np.array(LATENT_NAMES),
    )


def own_config(folder, npz) -> dict:
    return {
        "datasets": {
            "pngs": {"folder": str(folder), "n_test": 32},
            "arrays": {"npz": str(npz), "test_fraction": 0.25},
        },
        "experiments": {
            "own": {
                "grid": {"dataset": ["pngs", "arrays"], "strength": [0.5], "seed": [0]},
                "settings": {
                    "epochs": 1,
                    "batch_size": 32,
                    "encoder_width": 4,
                    "encoder_blocks": [1, 1],
                    "projector_depth": 2,
                    "projector_hidden_dim": 16,
                    "projector_out_dim": 8,
                },
            }
        },
        "embedding": {"n_view_images": 16, "n_views": 4},
        "analysis": {"probe_max_iter": 100, "alpha_req_last_index": 4},
        "geometry": {"n_images": 16, "k": 2, "n_augmentations": 4, "n_neighbors": 8},
        "compute": {"device": "cpu", "train_threads": 1},
    }


def write_config(workdir, config: dict) -> None:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("own")
    write_folder(workdir / "pngs")
    write_npz(workdir / "arrays.npz")
    write_config(workdir, own_config(workdir / "pngs", workdir / "arrays.npz"))
    snakemake(*TARGETS, "--cores", "2", "--configfile", "config.yaml", workdir=workdir)
    return workdir


def dry_run(workdir) -> tuple[dict[str, int], str]:
    """Rule → planned job count, and the log of a dry run of the targets."""
    result = snakemake(*TARGETS, "-n", "--configfile", "config.yaml", workdir=workdir)
    return planned_jobs(result), result.stdout + result.stderr


def planned_outputs(log: str) -> list[str]:
    return re.findall(r"^\s+output: (.+)$", log, re.M)


def test_both_datasets_go_through_the_whole_dag(workdir):
    results = workdir / "results"
    metrics = pd.read_csv(results / "own" / "metrics.csv")
    latent_metrics = {f"latent_r2_{name}" for name in LATENT_NAMES} | {"mcc"}
    by_dataset = metrics.groupby("dataset")["metric"].apply(set)
    assert latent_metrics <= by_dataset["arrays"]
    assert not latent_metrics & by_dataset["pngs"], "an image folder has no latents"
    assert metrics["value"].notna().all()
    geometry = pd.read_csv(results / "own" / "geometry.csv")
    assert set(geometry["dataset"]) == {"pngs", "arrays"}
    assert set(pd.read_csv(results / "own" / "claims.csv")["dataset"]) == {"pngs", "arrays"}
    for target in TARGETS[1:]:
        assert (workdir / target).stat().st_size > 0
    stored = np.load(results / "data" / "pngs.npz")
    assert stored["train_images"].shape == (64, 16, 16, 1), "grayscale PNGs, one channel"
    assert sorted(np.bincount(stored["test_labels"]).tolist()) == [10, 11, 11]  # 32 of 3 × 32


def test_editing_one_source_reruns_only_what_depends_on_it(workdir):
    jobs, _ = dry_run(workdir)
    assert jobs == {}, "touching nothing reruns nothing"

    image = workdir / "pngs" / "mid" / "07.png"
    original, status = image.read_bytes(), image.stat()
    Image.fromarray(np.full((16, 16), 3, np.uint8)).save(image)
    # an older copy: Snakemake's "input newer than output" alone would miss it
    os.utime(image, ns=(status.st_atime_ns, status.st_mtime_ns - 10**9))
    jobs, log = dry_run(workdir)
    for rule in ("make_own_dataset", "pretrain", "embed", "analyze_run", "geometry"):
        assert jobs[rule] == 1, (rule, jobs)
    outputs = planned_outputs(log)
    assert "results/data/pngs.npz" in " ".join(outputs)
    assert not [output for output in outputs if "arrays" in output], outputs

    image.write_bytes(original)
    os.utime(image, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert dry_run(workdir)[0] == {}, "the same files again: nothing to do"

    npz = workdir / "arrays.npz"
    write_npz(npz, seed=1)
    jobs, log = dry_run(workdir)
    assert jobs["make_own_dataset"] == 1 and jobs["pretrain"] == 1
    assert not [output for output in planned_outputs(log) if "pngs" in output]


def bad_folder_single_class(workdir):
    (workdir / "pngs" / "mid").rename(workdir / "elsewhere")
    (workdir / "pngs" / "light {bright}").rename(workdir / "elsewhere2")
    return "pngs", f"{workdir / 'pngs'} has a single class (dark)"


def bad_folder_missing(workdir):
    config = own_config(workdir / "nowhere", workdir / "arrays.npz")
    write_config(workdir, config)
    return "pngs", f"{workdir / 'nowhere'} does not exist"


def bad_folder_unreadable(workdir):
    (workdir / "pngs" / "dark" / "broken.png").write_bytes(b"\x89PNG truncated")
    return "pngs", f"{workdir / 'pngs' / 'dark' / 'broken.png'} (not an image Pillow reads)"


def bad_folder_truncated(workdir):
    image = workdir / "pngs" / "mid" / "05.png"
    image.write_bytes(image.read_bytes()[:-20])
    return "pngs", f"1 of 96 files cannot be read as images: {image} (cut short: no PNG end marker)"


def bad_folder_mixed_sizes(workdir):
    big = workdir / "pngs" / "light {bright}" / "big.png"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(big)
    return "pngs", "images of different sizes"


def bad_npz_dtype(workdir):
    np.savez(workdir / "arrays.npz", images=np.zeros((128, 16, 16, 3)), labels=np.arange(128) % 2)
    return "arrays", "images must be uint8 N×H×W×C with C = 1 or 3, not float64"


def bad_npz_latents(workdir):
    arrays = dict(np.load(workdir / "arrays.npz"))
    np.savez(workdir / "arrays.npz", **(arrays | {"latents": arrays["latents"][:100]}))
    return "arrays", "latents has 100 rows for 128 images"


@pytest.mark.parametrize(
    "make_bad",
    [
        bad_folder_missing,
        bad_folder_single_class,
        bad_folder_unreadable,
        bad_folder_truncated,
        bad_folder_mixed_sizes,
        bad_npz_dtype,
        bad_npz_latents,
    ],
)
def test_a_bad_source_stops_snakemake_before_any_job(tmp_path, make_bad):
    write_folder(tmp_path / "pngs")
    write_npz(tmp_path / "arrays.npz")
    write_config(tmp_path, own_config(tmp_path / "pngs", tmp_path / "arrays.npz"))
    dataset, problem = make_bad(tmp_path)
    result = snakemake(
        *TARGETS, "--cores", "1", "--configfile", "config.yaml", workdir=tmp_path, check=False
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "config error" in line]
    assert len(errors) == 1 and problem in errors[0], result.stderr
    assert f"config error at datasets.{dataset}." in errors[0]
    assert not (tmp_path / "results").exists()


def test_images_that_fail_to_decode_stop_their_dataset_job_with_one_message(tmp_path):
    write_folder(tmp_path / "pngs")
    write_npz(tmp_path / "arrays.npz")
    write_config(tmp_path, own_config(tmp_path / "pngs", tmp_path / "arrays.npz"))
    broken = tmp_path / "pngs" / "mid" / "03.png"
    data = bytearray(broken.read_bytes())
    start = data.index(b"IDAT") + 8  # inside the compressed pixels: header and end intact
    data[start : start + 40] = bytes(40)
    broken.write_bytes(bytes(data))
    target = "results/data/pngs.npz"
    result = snakemake(
        target, "--cores", "1", "--configfile", "config.yaml", workdir=tmp_path, check=False
    )
    assert result.returncode != 0
    log = (tmp_path / "results" / "logs" / "data" / "pngs.log").read_text()
    assert f"1 of 96 files cannot be read as images: {broken} (" in log
    assert not (tmp_path / target).exists()
