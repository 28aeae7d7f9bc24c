"""Experiments as grids of factors: run ids, per-run settings and factor columns.

An experiment in the config has ``settings`` (one value per run parameter) and
a ``grid`` (a list of values per swept parameter). Each point of the grid's
Cartesian product is a run whose id reads like ``dataset~shapes/strength~0.5/seed~0``.
"""

import itertools

REPORTED_FACTORS = ("dataset", "method", "strength", "seed")


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


def experiment_runs(experiment: dict) -> dict[str, dict]:
    """Run id → full settings of that run: the experiment's settings plus the grid point."""
    settings = experiment.get("settings", {})
    runs = {}
    for point in grid_points(experiment["grid"]):
        runs[run_id(point)] = {**settings, **point}
    return runs


def factor_columns(experiment: dict) -> list[str]:
    """The columns that identify a run in tidy tables: the reported factors, then swept ones."""
    swept = [key for key in experiment["grid"] if key not in REPORTED_FACTORS]
    return [*REPORTED_FACTORS, *swept]


def factor_values(settings: dict, columns: list[str]) -> dict:
    return {
        column: format_value(settings[column])
        if isinstance(settings[column], list)
        else settings[column]
        for column in columns
    }
