"""Tidy tables: per-run CSV files gathered with the run's factor columns in front."""

import pandas as pd


def collect_runs(paths: list[str], factors: list[dict]) -> pd.DataFrame:
    """Concatenate per-run tables, prefixing each with its run's factor values."""
    frames = []
    for path, values in zip(paths, factors, strict=True):
        table = pd.read_csv(path)
        for position, (column, value) in enumerate(values.items()):
            table.insert(position, column, value)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)
