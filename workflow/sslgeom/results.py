"""An experiment's results in a notebook, without knowing the file layout.

::

    from sslgeom.results import open_experiment

    exp = open_experiment("augstrength")  # config.yaml and results/ of the working directory
    exp.runs                              # one row per run: its id and every setting
    exp.table("metrics")                  # a tidy table, factor columns first
    exp.embeddings(exp.run_ids[0])        # layer → test-set embeddings (N × d)

The runs and their settings are those the config gives (its defaults filled in, as the
pipeline reads it), so open the config the results were made with.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sslgeom.config.experiments import factor_columns, format_value
from sslgeom.config.validate import validate_config
from sslgeom.io.artifacts import load_embeddings

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"


@dataclass
class ExperimentResults:
    """One experiment's runs, tables and embeddings under ``folder`` (``results/{name}``)."""

    name: str
    folder: Path
    config: dict
    settings: dict[str, dict]

    @property
    def run_ids(self) -> list[str]:
        return list(self.settings)

    @property
    def factors(self) -> list[str]:
        """The factor columns that identify a run in every table."""
        return factor_columns(self.config["experiments"][self.name])

    @property
    def runs(self) -> pd.DataFrame:
        """One row per run, indexed by run id: every setting (lists joined as in run ids)."""
        rows = {
            run: {key: format_value(v) if isinstance(v, list) else v for key, v in s.items()}
            for run, s in self.settings.items()
        }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("run")

    @property
    def tables(self) -> list[str]:
        """The names of the tables written so far (``metrics``, ``geometry``, ``claims``…)."""
        return sorted(path.stem for path in self.folder.glob("*.csv") if path.stat().st_size)

    def table(self, name: str) -> pd.DataFrame:
        """The tidy table ``name`` (see :attr:`tables`)."""
        path = self.folder / f"{name}.csv"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist (yet); written so far: {', '.join(self.tables) or 'none'}"
            )
        return pd.read_csv(path)

    def layers(self, run: str) -> list[str]:
        return self._arrays(run, ("layers",))["layers"].tolist()

    def embeddings(self, run: str, split: str = "test", epoch: int | None = None) -> dict:
        """Layer → the run's embeddings of the ``split`` images (N × d), of its final model or
        of its snapshot at ``epoch`` (on the first training images only, for the train split)."""
        prefix = f"{split}_" if epoch is None else f"epoch{epoch}_{split}_"
        arrays = self._arrays(run, (prefix, "layers"))
        missing = [layer for layer in arrays["layers"] if prefix + layer not in arrays]
        if missing:
            raise KeyError(f"run {run} has no embeddings {prefix}{missing[0]}")
        return {layer: arrays[prefix + layer] for layer in arrays["layers"].tolist()}

    def labels(self, run: str, split: str = "test") -> np.ndarray:
        return self._arrays(run, (f"{split}_labels",))[f"{split}_labels"]

    def latents(self, run: str, split: str = "test") -> pd.DataFrame:
        """The generating latents of the ``split`` images, one column per latent (data with
        known latents only)."""
        arrays = self._arrays(run, (f"{split}_latents", "latent_names"))
        if "latent_names" not in arrays:
            raise KeyError(f"the dataset of run {run} has no known latents")
        return pd.DataFrame(arrays[f"{split}_latents"], columns=arrays["latent_names"].tolist())

    def _arrays(self, run: str, prefixes: tuple[str, ...]) -> dict[str, np.ndarray]:
        if run not in self.settings:
            raise KeyError(f"no run {run!r} in experiment {self.name}; runs: {self.run_ids}")
        return load_embeddings(self.folder / "runs" / run / "embeddings.npz", prefixes)


def open_experiment(
    name: str, config: str | Path = "config.yaml", results: str | Path = "results"
) -> ExperimentResults:
    """The results of experiment ``name`` of ``config``, under the ``results`` folder."""
    settings = yaml.safe_load(Path(config).read_text())
    runs = validate_config(settings, SCHEMA_DIR)
    if name not in runs:
        raise KeyError(f"no experiment {name!r} in {config}; experiments: {list(runs)}")
    return ExperimentResults(name, Path(results) / name, settings, runs[name])
