"""Many claims of one family at once: Holm's family-wise adjustment and Benjamini–Hochberg
q-values, per claim id (C1, I2, …) within one experiment.

An experiment states up to a hundred claims of one id (one per group, metric and layer); at a
5% error rate per claim, a few of them come out decided by chance alone. Holm's step-down
adjustment (Holm 1979) keeps the chance of any false verdict in a family at 1 − confidence;
the Benjamini–Hochberg q-value (Benjamini & Hochberg 1995) is the false-discovery rate at which
a claim would count as decided.
"""

import numpy as np
import pandas as pd

MULTIPLICITY_COLUMNS = ["family_size", "p_holm", "verdict_holm", "q_bh"]


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values: the i-th smallest p times (m − i + 1), made non-decreasing in
    that order and capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values: the i-th smallest p times m / i, made non-decreasing in that
    order from the largest down, and capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * len(p) / np.arange(1, len(p) + 1)
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def with_multiplicity(claims: pd.DataFrame) -> pd.DataFrame:
    """``claims`` with, per claim id, its family size (claims with a p-value), Holm-adjusted
    p-values and verdicts (a verdict stands where its adjusted p is below 1 − confidence, else
    ``inconclusive``) and Benjamini–Hochberg q-values; NaN where a claim has no p-value."""
    claims = claims.assign(family_size=0, p_holm=np.nan, q_bh=np.nan, verdict_holm="inconclusive")
    for _, family in claims.groupby("claim", sort=False):
        tested = family.index[family["p_value"].notna()]
        p_values = claims.loc[tested, "p_value"].to_numpy()
        claims.loc[family.index, "family_size"] = len(tested)
        claims.loc[tested, "p_holm"] = holm(p_values)
        claims.loc[tested, "q_bh"] = benjamini_hochberg(p_values)
    stands = claims["p_holm"] < 1 - claims["confidence"]
    claims.loc[stands, "verdict_holm"] = claims.loc[stands, "verdict"]
    return claims
