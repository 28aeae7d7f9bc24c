import numpy as np
import pytest

from sslgeom.metrics.neighbours import nearest_other_rows, top_k_columns, unit_rows


def test_euclidean_neighbours_match_a_brute_force_sort_across_chunks():
    points = np.random.default_rng(0).standard_normal((50, 3))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    expected = np.argsort(distances, axis=1)[:, :4]
    found = nearest_other_rows(points, 4, "euclidean", chunk_size=16)
    np.testing.assert_array_equal(found, expected)
    first_rows = nearest_other_rows(points, 4, "euclidean", n_rows=21, chunk_size=16)
    np.testing.assert_array_equal(first_rows, expected[:21])


def test_cosine_neighbours_match_a_brute_force_sort_across_chunks():
    points = np.random.default_rng(1).standard_normal((40, 5)) * np.arange(1, 41)[:, None]
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    similarities = unit @ unit.T
    np.fill_diagonal(similarities, -np.inf)
    expected = np.argsort(-similarities, axis=1)[:, :3]
    found = nearest_other_rows(points, 3, "cosine", chunk_size=7)
    np.testing.assert_array_equal(found, expected)


def test_top_k_columns_are_the_largest_entries_largest_first():
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [3.0, -1.0, 2.0, 0.0]])
    np.testing.assert_array_equal(top_k_columns(scores, 2), [[1, 3], [0, 2]])


def test_unit_rows_have_norm_one_and_a_zero_row_stays_zero():
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0]])


def test_an_unknown_metric_is_named():
    with pytest.raises(ValueError, match="'manhattan'"):
        nearest_other_rows(np.eye(3), 1, "manhattan")
