"""Latent recovery: how linearly decodable each generating latent is from an embedding."""

from collections.abc import Collection, Mapping, Sequence

import numpy as np
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


def linear_r2(
    train_z: np.ndarray,
    train_targets: np.ndarray,
    test_z: np.ndarray,
    test_targets: np.ndarray,
    alpha: float = 1.0,
) -> float:
    """Held-out R² of a ridge regression from the embeddings to the targets (DESIGN.md,
    "Latent recovery").

    The StandardScaler is fitted on the training embeddings only; the regression is
    sklearn's ``Ridge`` with penalty ``alpha`` and an intercept. The score is sklearn's
    ``r2_score`` on the test set, averaged uniformly over the target columns: 1 for a
    perfect linear decoder, about 0 (possibly negative) for one no better than the mean.
    """
    scaler = StandardScaler().fit(train_z)
    regression = Ridge(alpha=alpha).fit(scaler.transform(train_z), train_targets)
    predictions = regression.predict(scaler.transform(test_z))
    return float(r2_score(test_targets, predictions, multioutput="uniform_average"))


def latent_r2_by_name(
    train_z: np.ndarray,
    train_latents: np.ndarray,
    test_z: np.ndarray,
    test_latents: np.ndarray,
    names: Sequence[str],
    periods: Mapping[str, float],
    categorical: Collection[str],
    alpha: float = 1.0,
) -> dict[str, float]:
    """:func:`linear_r2` of each latent's :func:`regression_targets`, by name in order.

    The targets are built from the training and test latents together, so a categorical
    latent has the same one-hot columns in both even when a class is missing from one.
    """
    n_train = len(train_latents)
    targets = regression_targets(
        np.concatenate([train_latents, test_latents]), names, periods, categorical
    )
    return {
        name: linear_r2(train_z, target[:n_train], test_z, target[n_train:], alpha=alpha)
        for name, target in targets.items()
    }
