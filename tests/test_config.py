"""Bad configs fail before any job runs, with a message naming the offending key."""

import copy
import shutil

import pytest
import yaml
from conftest import REPO, TINY_CONFIG, snakemake


def set_key(config: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for key in parents:
        config = config.setdefault(key, {})
    config[last] = value


BAD_CONFIGS = {
    "unknown top-level key": ("experimentz", {}, "experimentz"),
    "unknown run setting": ("experiments.tiny.settings.epochz", 3, "epochz"),
    "strength above 1": ("experiments.tiny.grid.strength", [0.0, 1.5], "strength"),
    "negative strength": ("experiments.tiny.grid.strength", [-0.1], "strength"),
    "factor in settings and grid": ("experiments.tiny.settings.seed", 3, "seed"),
    "epochs of wrong type": ("experiments.tiny.settings.epochs", "ten", "epochs"),
    "negative epochs": ("experiments.tiny.settings.epochs", -1, "epochs"),
    "projector width 0": (
        "experiments.tiny.settings.projector_hidden_dim",
        0,
        "projector_hidden_dim",
    ),
    "stem stride 3": ("experiments.tiny.settings.encoder_stem_stride", 3, "encoder_stem_stride"),
    "unknown dataset": ("experiments.tiny.grid.dataset", ["cifar"], "dataset"),
    "unknown method": ("experiments.tiny.settings.method", "moco", "method"),
    "empty grid list": ("experiments.tiny.grid.seed", [], "seed"),
    "unknown analysis key": ("analysis.knn", 3, "knn"),
    "undeclared dataset": ("datasets", {"shapes": {}}, "mnist5k"),
    "bad device": ("compute.device", "tpu", "device"),
    "batch larger than the data": ("experiments.tiny.settings.batch_size", 512, "batch_size"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=list(BAD_CONFIGS))
def test_bad_config_fails_naming_the_key(case, tmp_path):
    path, value, named = BAD_CONFIGS[case]
    config = copy.deepcopy(yaml.safe_load(TINY_CONFIG.read_text()))
    set_key(config, path, value)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake("-n", "--configfile", "config.yaml", workdir=tmp_path, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config error at" in output and named in output
    assert not (tmp_path / "results").exists()


def test_duplicate_experiment_names_fail_naming_the_line(tmp_path):
    text = TINY_CONFIG.read_text()
    experiment = text[text.index("  tiny:") : text.index("embedding:")]
    (tmp_path / "config.yaml").write_text(text.replace(experiment, experiment * 2))
    result = snakemake("-n", "--configfile", "config.yaml", workdir=tmp_path, check=False)
    assert result.returncode != 0
    assert "duplicate key experiments.tiny" in result.stdout + result.stderr


def test_a_given_configfile_replaces_the_default(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    result = snakemake("-n", "--configfile", str(TINY_CONFIG), workdir=tmp_path)
    assert "results/tiny/runs/" in result.stdout
    assert "augstrength" not in result.stdout
