"""Per-run values read out of an experiment's tables, keyed as the claims' effects take them
((seed, strength) for runs, (seed a, seed b) for pairs), and the groups of runs they are
computed over."""

from collections.abc import Iterator

import numpy as np
import pandas as pd


def run_values(table: pd.DataFrame, **match) -> dict[tuple, float]:
    """(seed, strength) → value of the rows whose columns equal ``match`` (e.g. metric, layer)."""
    keep = np.ones(len(table), dtype=bool)
    for column, value in match.items():
        keep &= (table[column] == value).to_numpy()
    return {(r.seed, r.strength): r.value for r in table[keep].itertuples()}


def positive_strengths(values: dict[tuple, float], seeds: list) -> list[float]:
    """The strengths s > 0 measured for every seed."""
    found = {s for _, s in values}
    return sorted(s for s in found if s > 0 and all((seed, s) in values for seed in seeds))


def with_resamples(observed: dict, resamples: dict | None) -> dict[tuple, np.ndarray]:
    """(seed, strength) → [observed, resample 1, …] (just [observed] without resamples)."""
    if resamples is None:
        return {key: np.array([value]) for key, value in observed.items()}
    return {key: np.concatenate([[value], resamples[key]]) for key, value in observed.items()}


def seed_values(table: pd.DataFrame, **match) -> dict[tuple, np.ndarray]:
    """(seed, strength) → [value] of the rows matching ``match``, as the effects read them."""
    return with_resamples(run_values(table, **match), None)


def difference(first: dict, second: dict) -> dict:
    """first − second, key by key (the keys of ``first``)."""
    return {key: first[key] - second[key] for key in first}


def log10(values: dict[tuple, np.ndarray]) -> dict[tuple, np.ndarray]:
    """The base-10 logarithm of each (seed, strength) value: ratios as effects."""
    return {key: np.log10(value) for key, value in values.items()}


def strengths_of(values: dict[tuple, np.ndarray]) -> list[float]:
    """Every strength the (seed, strength) keys hold."""
    return sorted({strength for _, strength in values})


def grouped_pairs(pairs: pd.DataFrame, columns: list[str]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """:func:`grouped` by run a's ``columns`` (pairs that share them)."""
    for group, rows in grouped(pairs, [f"{column}_a" for column in columns]):
        yield {column.removesuffix("_a"): value for column, value in group.items()}, rows


def grouped(table: pd.DataFrame, columns: list[str]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """(column → value, rows) of each group of ``table`` by ``columns`` (one group if none)."""
    if not columns:
        yield {}, table
        return
    for key, rows in table.groupby(columns, sort=True):
        yield dict(zip(columns, key, strict=True)), rows


def select(table: pd.DataFrame, group: dict) -> pd.DataFrame:
    """The rows of ``table`` in ``group`` (column → value)."""
    keep = np.ones(len(table), dtype=bool)
    for column, value in group.items():
        keep &= (table[column] == value).to_numpy()
    return table[keep]
