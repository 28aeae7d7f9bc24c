"""Latent recovery: how well each generating latent is decodable from an embedding (held-out
linear and kernel ridge R²), and the mean correlation coefficient of latents and dimensions."""

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.base import RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler


def _one_hot(values: np.ndarray, name: str) -> np.ndarray:
    classes = np.rint(values).astype(np.int64)
    if np.any(classes != values) or np.any(classes < 0):
        raise ValueError(f"categorical latent {name!r} must hold non-negative integers")
    return np.eye(classes.max() + 1)[classes]


def regression_targets(
    latents: np.ndarray,
    names: Sequence[str],
    periods: Mapping[str, float],
    categorical: Collection[str],
) -> dict[str, np.ndarray]:
    """The regression target matrix (N × columns, float64) of each latent, by name.

    Column ``j`` of ``latents`` is the latent ``names[j]``. A categorical latent becomes the
    one-hot encoding of its integer value (column k for value k, up to the largest value
    present); a periodic latent of period p becomes ``(cos 2πz/p, sin 2πz/p)``, so values
    just below and just above a period boundary get nearby targets; any other latent is
    its value as one column.
    """
    latents = np.asarray(latents, dtype=np.float64)
    if latents.ndim != 2 or latents.shape[1] != len(names):
        raise ValueError(f"latents must have shape (n, {len(names)}), got {latents.shape}")
    unknown = (set(periods) | set(categorical)) - set(names)
    if unknown:
        raise ValueError(f"periods or categorical name unknown latents: {sorted(unknown)}")
    if set(periods) & set(categorical):
        raise ValueError("a latent cannot be both periodic and categorical")
    targets = {}
    for name, values in zip(names, latents.T, strict=True):
        if name in categorical:
            targets[name] = _one_hot(values, name)
        elif name in periods:
            angle = 2 * np.pi * values / periods[name]
            targets[name] = np.column_stack([np.cos(angle), np.sin(angle)])
        else:
            targets[name] = values[:, None]
    return targets


def _held_out_r2(
    regression: RegressorMixin,
    train_z: np.ndarray,
    train_targets: np.ndarray,
    test_z: np.ndarray,
    test_targets: np.ndarray,
) -> float:
    """Test R² of ``regression`` fitted on the float64 training embeddings standardised with
    their own StandardScaler, averaged uniformly over the target columns."""
    train_z, test_z = (np.asarray(z, dtype=np.float64) for z in (train_z, test_z))
    scaler = StandardScaler().fit(train_z)
    regression.fit(scaler.transform(train_z), train_targets)
    predictions = regression.predict(scaler.transform(test_z))
    return float(r2_score(test_targets, predictions, multioutput="uniform_average"))


def linear_r2(
    train_z: np.ndarray,
    train_targets: np.ndarray,
    test_z: np.ndarray,
    test_targets: np.ndarray,
    alpha: float = 1.0,
) -> float:
    """Held-out R² of a ridge regression from the embeddings to the targets.

    The StandardScaler is fitted on the training embeddings only; the regression is
    sklearn's ``Ridge`` with penalty ``alpha`` and an intercept. The score is sklearn's
    ``r2_score`` on the test set, averaged uniformly over the target columns: 1 for a
    perfect linear decoder, about 0 (possibly negative) for one no better than the mean.
    """
    return _held_out_r2(Ridge(alpha=alpha), train_z, train_targets, test_z, test_targets)


def kernel_ridge_r2(
    train_z: np.ndarray,
    train_targets: np.ndarray,
    test_z: np.ndarray,
    test_targets: np.ndarray,
    alpha: float = 1.0,
    max_train: int = 2000,
    seed: int = 0,
) -> float:
    """Held-out R² of an RBF kernel ridge regression from the embeddings to the targets,
    scored like :func:`linear_r2`.

    Inputs are standardised on the training rows; the kernel is ``exp(−γ‖x − x′‖²)`` with
    γ = 1/d, so as E‖x − x′‖² = 2d for independent standardised points, their kernel is
    about ``exp(−2)`` whatever d. sklearn's ``KernelRidge`` fits no intercept and
    would shrink every prediction toward 0, so it is fitted to the targets minus their
    training mean, which is added back (``TransformedTargetRegressor``): predictions far from
    the data fall back to the mean, as a linear ridge's intercept does. The fit costs
    O(n³), so at most ``max_train`` training rows are used: when there are more, the rows
    ``np.random.default_rng(seed).choice(n, max_train, replace=False)``.
    """
    train_z, train_targets = np.asarray(train_z), np.asarray(train_targets)
    if len(train_z) > max_train:
        rows = np.random.default_rng(seed).choice(len(train_z), max_train, replace=False)
        train_z, train_targets = train_z[rows], train_targets[rows]
    regression = TransformedTargetRegressor(
        regressor=KernelRidge(alpha=alpha, kernel="rbf", gamma=1 / train_z.shape[1]),
        transformer=StandardScaler(with_std=False),
    )
    return _held_out_r2(regression, train_z, train_targets, test_z, test_targets)


def latent_r2_by_name(
    train_z: np.ndarray,
    train_latents: np.ndarray,
    test_z: np.ndarray,
    test_latents: np.ndarray,
    names: Sequence[str],
    periods: Mapping[str, float],
    categorical: Collection[str],
    alpha: float = 1.0,
    score: Callable[..., float] = linear_r2,
) -> dict[str, float]:
    """``score`` (:func:`linear_r2` or :func:`kernel_ridge_r2`, called as
    ``score(train_z, train_targets, test_z, test_targets, alpha=alpha)``) of each latent's
    :func:`regression_targets`, by name in order.

    The targets are built from the training and test latents together, so a categorical
    latent has the same one-hot columns in both even when a class is missing from one.
    """
    n_train = len(train_latents)
    targets = regression_targets(
        np.concatenate([train_latents, test_latents]), names, periods, categorical
    )
    return {
        name: score(train_z, target[:n_train], test_z, target[n_train:], alpha=alpha)
        for name, target in targets.items()
    }


def mcc_targets(
    latents: np.ndarray,
    names: Sequence[str],
    periods: Mapping[str, float],
    categorical: Collection[str],
) -> np.ndarray:
    """The generating latents as :func:`mean_correlation_coefficient` matches them (N × m):
    one column per continuous latent, its value; a periodic latent counts as its two
    coordinates (cos 2πz/p, sin 2πz/p), since no single dimension can hold an angle
    continuously; a categorical latent is not a target (it has probe accuracy and R²)."""
    targets = regression_targets(latents, names, periods, categorical)
    continuous = [targets[name] for name in names if name not in categorical]
    if not continuous:
        raise ValueError("MCC needs at least one continuous latent")
    return np.column_stack(continuous)


def _unit_centred_columns(x: np.ndarray) -> np.ndarray:
    """Columns minus their means, scaled to unit norm; a constant column becomes all zeros
    (tested with max = min: rounding in the mean can leave it a tiny non-zero constant)."""
    centred = np.where(np.ptp(x, axis=0) > 0, x - x.mean(axis=0), 0.0)
    norms = np.linalg.norm(centred, axis=0)
    return centred / np.where(norms > 0, norms, 1.0)


def mean_correlation_coefficient(z: np.ndarray, latents: np.ndarray) -> float:
    """Mean correlation coefficient (MCC) of the latents with the embedding dimensions, as in
    nonlinear ICA identifiability work (Hyvärinen & Morioka 2016; Zimmermann et al. 2021,
    "Contrastive learning inverts the data generating process").

    ``latents`` are the generating latents themselves, one column each (:func:`mcc_targets`),
    not an encoding of them for regression: one-hot columns of a class would each need a
    dimension of their own.

    The absolute Pearson correlations |corr(latent_i, z_j)| (m × d) are matched one latent to
    one distinct dimension by the Hungarian algorithm (scipy ``linear_sum_assignment``,
    maximising their sum), and MCC is the sum of the matched values over m: 1 when every
    latent is an affine function of its own dimension, whatever the order and signs. When
    d < m, the m − d latents left without a dimension count as 0, since d dimensions cannot
    hold more than d of them apart. A constant column has correlation 0 with everything.
    """
    z, latents = np.asarray(z, dtype=np.float64), np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or latents.ndim != 2 or len(z) != len(latents):
        raise ValueError(f"z and latents must be N × d and N × m, got {z.shape}, {latents.shape}")
    correlations = np.abs(_unit_centred_columns(latents).T @ _unit_centred_columns(z))
    rows, columns = linear_sum_assignment(correlations, maximize=True)
    return float(correlations[rows, columns].sum() / latents.shape[1])
