"""Experiments as grids of factors: run ids, per-run settings and factor columns.

An experiment in the config has ``settings`` (one value per run parameter) and
a ``grid`` (a list of values per swept parameter). Each point of the grid's
Cartesian product is a run whose id reads like ``dataset~shapes/strength~0.5/seed~0``.

An experiment may also ``vary`` factors one at a time around its settings (a star design):
each value under ``vary.<factor>`` is a variant of the settings that changes that factor alone
(a mapping value also changes settings coupled to it, e.g. ``{optimizer: sgd, lr: 0.05}``).
The base settings and every variant are crossed with the grid; the run ids of such an
experiment name every varied factor, so ``optimizer~sgd/batch_size~256/method~vicreg/seed~0``.

Its :class:`Design` tells the claims and the figure tables how the runs are laid out: which
factors are varied around a base value, and which are crossed with the rest of the grid.
"""

import itertools
from dataclasses import dataclass, field

REPORTED_FACTORS = ("dataset", "method", "strength", "seed")
PIPELINE_MODEL = "pipeline"  # run setting ``model``: pretrained by the pipeline


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "-".join(format_value(item) for item in value)
    return str(value)


def run_id(point: dict) -> str:
    return "/".join(f"{key}~{format_value(value)}" for key, value in point.items())


def grid_points(grid: dict[str, list]) -> list[dict]:
    """The Cartesian product of the grid, in the order its keys are written."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def variants(experiment: dict) -> list[tuple[tuple[str, int] | None, dict]]:
    """The base settings and each one-factor variant: (``(factor, index)`` or None, overrides)."""
    found = [(None, {})]
    for factor, values in experiment.get("vary", {}).items():
        for index, value in enumerate(values):
            found.append(((factor, index), value if isinstance(value, dict) else {factor: value}))
    return found


def experiment_runs(experiment: dict) -> dict[str, dict]:
    """Run id → full settings of that run: the experiment's settings, its variant, the grid point.

    Runs are ordered variant by variant (the base first), each over the grid's points.
    """
    settings = experiment.get("settings", {})
    varied = list(experiment.get("vary", {}))
    runs = {}
    for _, overrides in variants(experiment):
        variant_settings = {**settings, **overrides}
        for point in grid_points(experiment["grid"]):
            factors = {key: variant_settings[key] for key in varied} | point
            runs[run_id(factors)] = {**variant_settings, **point}
    return runs


def settings_besides(run_id_text: str, settings: dict, defaults: dict) -> str:
    """``key=value`` of each of a run's settings that its id does not name and that differs from
    its default: what sets the run apart, for a log line."""
    named = {part.split("~", 1)[0] for part in run_id_text.split("/")}
    return " ".join(
        f"{key}={format_value(value)}"
        for key, value in settings.items()
        if key not in named and (key not in defaults or defaults[key] != value)
    )


def factor_columns(experiment: dict) -> list[str]:
    """The columns that identify a run in tidy tables: the reported factors, then swept ones."""
    swept = [*experiment["grid"], *experiment.get("vary", {})]
    return [*REPORTED_FACTORS, *(key for key in swept if key not in REPORTED_FACTORS)]


def factor_values(settings: dict, columns: list[str]) -> dict:
    return {
        column: format_value(settings[column])
        if isinstance(settings[column], list)
        else settings[column]
        for column in columns
    }


@dataclass(frozen=True)
class Design:
    """How an experiment's runs are laid out, from its config.

    ``factors``: the factor columns of its tables (:func:`factor_columns`). ``base``: each
    factor it varies one at a time (``vary``) → its base value, as the tables write it.
    ``crossed``: the grid factors with several values but the seed, each value crossed with
    all the rest, so that none of them is a base.
    """

    factors: list[str]
    base: dict = field(default_factory=dict)
    crossed: list[str] = field(default_factory=list)

    def base_values(self, table, fixed) -> dict:
        """The base setting of the ``fixed`` factors of ``table`` (a DataFrame): a varied
        factor's base value; any other factor (crossed, so without a base) its first value in
        sorted order, so that a figure of one setting shows one run per seed."""
        return {
            factor: self.base[factor] if factor in self.base else min(table[factor].dropna())
            for factor in fixed
            if factor in self.base or len(table) > 0
        }

    def at_base(self, table, fixed):
        """The rows of ``table`` whose ``fixed`` factors take their base setting
        (:meth:`base_values`)."""
        values = self.base_values(table, fixed)
        if not values:
            return table
        return table[(table[list(values)] == list(values.values())).all(axis=1)]


def experiment_design(experiment: dict) -> Design:
    """The :class:`Design` of an experiment of the config."""
    return Design(
        factors=factor_columns(experiment),
        base=factor_values(experiment.get("settings", {}), list(experiment.get("vary", {}))),
        crossed=[f for f, values in experiment["grid"].items() if f != "seed" and len(values) > 1],
    )
