"""Every experiment file in configs/ validates and builds its full DAG (a Snakemake dry run)."""

import pytest
import yaml
from conftest import REPO, snakemake

from sslgeom.config.experiments import experiment_runs
from sslgeom.config.validate import find_duplicate_keys

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


def test_the_paper_scale_configs_are_shipped():
    names = {path.stem for path in CONFIGS}
    assert {"cifar10_paper", "cifar100", "stl10"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_config_dry_run_builds_every_job(path, tmp_path):
    assert find_duplicate_keys(path) == []
    result = snakemake("-n", "--configfile", str(path), workdir=tmp_path)
    output = result.stdout + result.stderr
    config = yaml.safe_load(path.read_text())
    n_runs = sum(len(experiment_runs(experiment)) for experiment in config["experiments"].values())
    for rule, count in {"make_dataset": len(config["datasets"]), "pretrain": n_runs}.items():
        assert any(line.split() == [rule, str(count)] for line in output.splitlines()), rule
    assert not (tmp_path / "results").exists()
