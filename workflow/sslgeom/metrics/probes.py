"""Downstream probes on frozen embeddings: linear (logistic regression) and k-NN."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sslgeom.metrics.neighbours import KNN_CHUNK_ROWS, top_k_columns, unit_rows


def linear_probe_correct(
    train_z: np.ndarray,
    train_y: np.ndarray,
    test_z: np.ndarray,
    test_y: np.ndarray,
    max_iter: int = 1000,
    c: float = 1.0,
) -> np.ndarray:
    """Whether a multinomial logistic-regression probe on standardised features classifies
    each test example right (bool, one per example; their mean is the test accuracy).

    The StandardScaler is fitted on the training embeddings only; the classifier is
    sklearn's ``LogisticRegression`` with the deterministic lbfgs solver, inverse L2
    regularisation strength ``c`` and at most ``max_iter`` iterations.
    """
    scaler = StandardScaler().fit(train_z)
    classifier = LogisticRegression(C=c, solver="lbfgs", max_iter=max_iter)
    classifier.fit(scaler.transform(train_z), train_y)
    predictions = classifier.predict(scaler.transform(test_z))
    return predictions == np.asarray(test_y)


def _majority_vote(neighbour_classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Most frequent class per row of ``neighbour_classes`` (columns sorted by similarity).

    A tie in counts goes to the tied class whose first neighbour is the most similar.
    """
    n_rows, k = neighbour_classes.shape
    rows = np.repeat(np.arange(n_rows), k)
    counts = np.zeros((n_rows, n_classes), dtype=np.int64)
    np.add.at(counts, (rows, neighbour_classes.ravel()), 1)
    first_rank = np.full((n_rows, n_classes), k, dtype=np.int64)
    np.minimum.at(first_rank, (rows, neighbour_classes.ravel()), np.tile(np.arange(k), n_rows))
    return np.argmax(counts * (k + 1) - first_rank, axis=1)


def knn_correct(
    train_z: np.ndarray,
    train_y: np.ndarray,
    test_z: np.ndarray,
    test_y: np.ndarray,
    k: int = 20,
) -> np.ndarray:
    """Whether a k-nearest-neighbour classifier with cosine similarity classifies each test
    example right (bool, one per example; their mean is the test accuracy).

    Rows are L2-normalised; each test point takes the majority class among its k most
    similar training points. A tie in votes is broken toward the tied class of the most
    similar neighbour. Similarities are computed by matrix product in chunks of
    256 test rows, so memory stays at 256 × N_train values.
    """
    train_y = np.asarray(train_y)
    if not 1 <= k <= len(train_y):
        raise ValueError(f"k must be in [1, {len(train_y)}], got {k}")
    classes, train_class_index = np.unique(train_y, return_inverse=True)
    train_unit = unit_rows(train_z)
    test_unit = unit_rows(test_z)
    predictions = np.empty(len(test_unit), dtype=np.int64)
    for start in range(0, len(test_unit), KNN_CHUNK_ROWS):
        chunk = slice(start, start + KNN_CHUNK_ROWS)
        neighbours = top_k_columns(test_unit[chunk] @ train_unit.T, k)
        predictions[chunk] = _majority_vote(train_class_index[neighbours], len(classes))
    return classes[predictions] == np.asarray(test_y)
