"""The claims an experiment tests, each computed from its tables as a signed effect with a
confidence interval and a verdict.

Every claim is an effect with a predicted sign, written with its source (for example the slope
over strength of the projector's invariance minus the encoder's, predicted positive by
Cosentino et al. 2022), or, where no source predicts a sign, a two-sided claim that the effect
differs from 0 (an exploratory claim, or a question a paper asks without answering it). Its
interval combines two sources of uncertainty:

- seeds: the delete-one-seed jackknife of the effect (for an effect that is a mean of per-seed
  values this is the usual standard error s/√n; for one built from seed pairs, leaving a seed
  out drops every pair it is in);
- the finite test set, where the per-image data are at hand: the effect recomputed on
  ``n_resamples`` bootstrap resamples of the test images, the same images for every run (see
  :mod:`sslgeom.claims.resampling` for what each metric resamples).

The interval is estimate ± t · √(se_seed² + se_test²), t the Student quantile of the configured
confidence with the Welch–Satterthwaite degrees of freedom of that sum: n_seeds − 1 for the
seed part and, for the bootstrap part (many resamples of many images), infinitely many, so
(n_seeds − 1) · (se² / se_seed²)² in all. Few seeds give wide intervals where the seeds
dominate the uncertainty, and the test-set part is not inflated by their t quantile.

Decision rule (set before any run; the confidence is the config's ``claims.confidence``): for
a claim with a predicted sign, ``supported`` when the whole interval lies on the predicted side
of 0, ``contradicted`` when it lies on the other side; for a two-sided claim, ``supported``
(the effect differs from 0) when the interval excludes 0; ``inconclusive`` otherwise, and
always with fewer than two seeds. The p-value is the two-sided one of the same t statistic, so
that it is below 1 − confidence exactly when the interval excludes 0.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

VERDICTS = ("supported", "contradicted", "inconclusive")
TWO_SIDED = 0  # the direction of a claim that predicts no sign
# The most seeds that seeds_needed looks for: beyond, a question is not one config away.
MAX_SEEDS = 100
CLAIM_COLUMNS = [
    "claim",
    "statement",
    "predicted",
    "source",
    "estimate",
    "ci_low",
    "ci_high",
    "se_seed",
    "se_test",
    "dof",
    "p_value",
    "n_seeds",
    "confidence",
    "verdict",
    "seeds_needed",
]


@dataclass(frozen=True)
class Claim:
    """A claim: its short id, one sentence, the sign it predicts for its effect (+1, −1, or
    TWO_SIDED: it differs from 0), and the source of that prediction (a paper, or
    ``exploratory``)."""

    claim: str
    statement: str
    direction: int
    source: str

    @property
    def predicted(self) -> str:
        return {1: "> 0", -1: "< 0", TWO_SIDED: "≠ 0 (two-sided)"}[self.direction]


def verdict(low: float, high: float, direction: int) -> str:
    """For a predicted sign, ``supported`` if [low, high] lies strictly on the predicted side of
    0 and ``contradicted`` if strictly on the other; for a two-sided claim, ``supported`` if it
    excludes 0; else ``inconclusive`` (also for an undefined interval)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if direction == TWO_SIDED:
        return "supported" if low > 0 or high < 0 else "inconclusive"
    if direction * low > 0 and direction * high > 0:
        return "supported"
    if direction * low < 0 and direction * high < 0:
        return "contradicted"
    return "inconclusive"


def jackknife_se(effect: Callable[[frozenset], float], seeds: Iterable) -> float:
    """Delete-one-seed jackknife standard error of ``effect`` (a function of a seed set):
    √((n − 1)/n · Σ_i (θ_(−i) − θ̄)²); for a mean of per-seed values, s/√n exactly."""
    seeds = frozenset(seeds)
    leave_one_out = np.array([effect(seeds - {seed}) for seed in sorted(seeds)])
    n = len(leave_one_out)
    return float(np.sqrt((n - 1) / n * np.sum((leave_one_out - leave_one_out.mean()) ** 2)))


def welch_satterthwaite_dof(se_seed: float, se_test: float, n_seeds: int) -> float:
    """Degrees of freedom of se_seed² + se_test² (Satterthwaite 1946, Welch 1947), se_seed² with
    n_seeds − 1 of them and se_test² (a bootstrap over many images) with infinitely many:
    (n_seeds − 1) · ((se_seed² + se_test²) / se_seed²)²; infinite where se_seed is 0."""
    if se_seed == 0:
        return math.inf
    return (n_seeds - 1) * ((se_seed**2 + se_test**2) / se_seed**2) ** 2


def interval(
    estimate: float, se_seed: float, se_test: float, n_seeds: int, confidence: float
) -> tuple[float, float]:
    """estimate ± t_{(1 + confidence)/2, dof} · √(se_seed² + se_test²), dof by
    :func:`welch_satterthwaite_dof`; undefined (NaN) below two seeds."""
    if n_seeds < 2 or not np.isfinite(se_seed):
        return float("nan"), float("nan")
    dof = welch_satterthwaite_dof(se_seed, se_test, n_seeds)
    half_width = stats.t.ppf((1 + confidence) / 2, dof) * math.hypot(se_seed, se_test)
    return estimate - half_width, estimate + half_width


def p_value(estimate: float, se_seed: float, se_test: float, n_seeds: int) -> float:
    """Two-sided p-value of estimate / √(se_seed² + se_test²) against Student's t with the
    Welch–Satterthwaite degrees of freedom (NaN below two seeds; 1 for a zero effect)."""
    if n_seeds < 2 or not np.isfinite(se_seed):
        return float("nan")
    se = math.hypot(se_seed, se_test)
    if se == 0:
        return 1.0 if estimate == 0 else 0.0
    dof = welch_satterthwaite_dof(se_seed, se_test, n_seeds)
    return float(2 * stats.t.sf(abs(estimate) / se, dof))


def seeds_needed(
    estimate: float, se_seed: float, se_test: float, n_seeds: int, confidence: float
) -> float:
    """The fewest seeds (up to MAX_SEEDS) at which the interval of ``estimate`` would exclude 0,
    the seeds' spread as observed (se_seed scaling as 1/√n) and the test-set part fixed; NaN
    where none does (the test set alone, or the spread, keeps it from a verdict)."""
    if n_seeds < 2 or not np.isfinite(se_seed):
        return float("nan")
    spread = se_seed**2 * n_seeds  # the variance of one seed's value
    for n in range(2, MAX_SEEDS + 1):
        se = math.sqrt(spread / n)
        low, high = interval(estimate, se, se_test, n, confidence)
        if low > 0 or high < 0:
            return float(n)
    return float("nan")


def assess(
    claim: Claim,
    effect: Callable[[frozenset], np.ndarray],
    seeds: Sequence,
    confidence: float,
) -> dict:
    """The claim's row: ``effect(seeds)`` is an array whose element 0 is the effect on the
    observed data and whose other elements (if any) are the effect on test-set resamples."""
    seeds = frozenset(seeds)
    n = len(seeds)
    values = np.atleast_1d(effect(seeds))
    estimate = float(values[0])
    observed = lambda kept: float(np.atleast_1d(effect(kept))[0])  # noqa: E731
    se_seed = jackknife_se(observed, seeds) if n > 1 else float("nan")
    se_test = float(np.std(values[1:], ddof=1)) if len(values) > 2 else 0.0
    low, high = interval(estimate, se_seed, se_test, n, confidence)
    decided = verdict(low, high, claim.direction)
    return {
        "claim": claim.claim,
        "statement": claim.statement,
        "predicted": claim.predicted,
        "source": claim.source,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "se_seed": se_seed,
        "se_test": se_test,
        "dof": welch_satterthwaite_dof(se_seed, se_test, n) if n > 1 else float("nan"),
        "p_value": p_value(estimate, se_seed, se_test, n),
        "n_seeds": n,
        "confidence": confidence,
        "verdict": decided,
        "seeds_needed": (
            seeds_needed(estimate, se_seed, se_test, n, confidence)
            if decided == "inconclusive"
            else float("nan")
        ),
    }


# --- effects ---------------------------------------------------------------------------------


def slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of y over x along the first axis (y: len(x) × …)."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean()
    return np.tensordot(centred, np.asarray(y, dtype=np.float64), axes=1) / np.sum(centred**2)


def mean_over_seeds(per_seed: Callable[[object], np.ndarray]) -> Callable[[frozenset], np.ndarray]:
    """The effect that averages ``per_seed(seed)`` over the kept seeds."""
    return lambda seeds: np.mean([per_seed(seed) for seed in sorted(seeds)], axis=0)


def strength_slope(values: dict, strengths: Sequence[float]):
    """Per seed: the slope over ``strengths`` of ``values[(seed, strength)]``."""
    return mean_over_seeds(
        lambda seed: slope(strengths, np.stack([values[seed, s] for s in strengths]))
    )


def strength_mean(values: dict, strengths: Sequence[float]):
    """Per seed: the mean over ``strengths`` of ``values[(seed, strength)]``."""
    return mean_over_seeds(lambda seed: np.mean([values[seed, s] for s in strengths], axis=0))


def pair_mean(
    values: dict[tuple, float] | Sequence[tuple[tuple, float]],
) -> Callable[[frozenset], float]:
    """The mean of the values of the pairs (seed_a, seed_b) → value (a mapping, or a sequence
    of items where several pairs share their seeds) over the pairs of kept seeds (NaN if
    none)."""
    items = list(values.items()) if isinstance(values, dict) else list(values)

    def effect(seeds: frozenset) -> float:
        kept = [v for (a, b), v in items if a in seeds and b in seeds]
        return float(np.mean(kept)) if kept else float("nan")

    return effect
