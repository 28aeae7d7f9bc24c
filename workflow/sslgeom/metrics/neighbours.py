"""Nearest neighbours among embedding rows, by cosine similarity or Euclidean distance.

Scores are computed by matrix product ``chunk_size`` rows at a time, so memory grows as
chunk_size × N, not N².
"""

import numpy as np

KNN_CHUNK_ROWS = 256
NORM_EPS = 1e-12
METRICS = ("cosine", "euclidean")


def unit_rows(z: np.ndarray) -> np.ndarray:
    """The rows of ``z`` scaled to unit L2 norm (a zero row stays zero), in float64."""
    z = np.asarray(z, dtype=np.float64)
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), NORM_EPS)


def top_k_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest entries of each row, largest first."""
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-top_scores, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def nearest_other_rows(
    points: np.ndarray,
    k: int,
    metric: str,
    n_rows: int | None = None,
    chunk_size: int = KNN_CHUNK_ROWS,
) -> np.ndarray:
    """Indices (n_rows × k) of the k nearest other rows of each of the first ``n_rows`` rows of
    ``points`` (all by default), nearest first: the most cosine-similar rows, or the closest
    in Euclidean distance. A row is never its own neighbour."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    points = unit_rows(points) if metric == "cosine" else np.asarray(points, dtype=np.float64)
    squared_norms = np.sum(points**2, axis=1)
    end = len(points) if n_rows is None else n_rows
    neighbours = np.empty((end, k), dtype=np.int64)
    for start in range(0, end, chunk_size):
        rows = np.arange(start, min(start + chunk_size, end))
        scores = points[rows] @ points.T
        if metric == "euclidean":  # minus the squared distance
            scores = 2 * scores - squared_norms[rows, None] - squared_norms[None, :]
        scores[np.arange(len(rows)), rows] = -np.inf
        neighbours[rows] = top_k_columns(scores, k)
    return neighbours
