"""The claims an experiment tests, each computed from its tables as a signed effect with a
confidence interval and a verdict.

Every claim is an effect whose sign the claim predicts (for example the slope over strength of
the projector's invariance minus the encoder's, predicted positive). Its interval combines two
sources of uncertainty:

- seeds: the delete-one-seed jackknife of the effect (for an effect that is a mean of per-seed
  values this is the usual standard error s/√n; for one built from seed pairs, leaving a seed
  out drops every pair it is in);
- the finite test set, where the per-image data are at hand: the effect recomputed on
  ``n_resamples`` bootstrap resamples of the test images, the same images for every run (see
  :mod:`sslgeom.claims.resampling` for what each metric resamples).

The interval is estimate ± t · √(se_seed² + se_test²), t the Student quantile of the configured
confidence with n_seeds − 1 degrees of freedom, so that few seeds give wide intervals rather than
overconfident ones. Decision rule (set before any run; the confidence is the config's
``claims.confidence``): ``supported`` when the whole interval lies on the predicted side of 0,
``contradicted`` when it lies on the other side, ``inconclusive`` otherwise (and always with
fewer than two seeds).
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

VERDICTS = ("supported", "contradicted", "inconclusive")
CLAIM_COLUMNS = [
    "claim",
    "statement",
    "estimate",
    "ci_low",
    "ci_high",
    "n_seeds",
    "confidence",
    "verdict",
]


@dataclass(frozen=True)
class Claim:
    """A claim: its short id, one sentence, and the sign it predicts for its effect."""

    claim: str
    statement: str
    direction: int  # +1: the effect is predicted positive, −1: negative


def verdict(low: float, high: float, direction: int) -> str:
    """``supported`` if [low, high] lies strictly on the predicted side of 0, ``contradicted``
    if strictly on the other, else ``inconclusive`` (also for an undefined interval)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
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


def interval(estimate: float, se: float, n_seeds: int, confidence: float) -> tuple[float, float]:
    """estimate ± t_{(1 + confidence)/2, n_seeds − 1} · se; undefined (NaN) below two seeds."""
    if n_seeds < 2 or not np.isfinite(se):
        return float("nan"), float("nan")
    half_width = stats.t.ppf((1 + confidence) / 2, n_seeds - 1) * se
    return estimate - half_width, estimate + half_width


def assess(
    claim: Claim,
    effect: Callable[[frozenset], np.ndarray],
    seeds: Sequence,
    confidence: float,
) -> dict:
    """The claim's row: ``effect(seeds)`` is an array whose element 0 is the effect on the
    observed data and whose other elements (if any) are the effect on test-set resamples."""
    seeds = frozenset(seeds)
    values = np.atleast_1d(effect(seeds))
    estimate = float(values[0])
    observed = lambda kept: float(np.atleast_1d(effect(kept))[0])  # noqa: E731
    se_seed = jackknife_se(observed, seeds) if len(seeds) > 1 else float("nan")
    se_test = float(np.std(values[1:], ddof=1)) if len(values) > 2 else 0.0
    low, high = interval(estimate, float(np.hypot(se_seed, se_test)), len(seeds), confidence)
    return {
        "claim": claim.claim,
        "statement": claim.statement,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "n_seeds": len(seeds),
        "confidence": confidence,
        "verdict": verdict(low, high, claim.direction),
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
