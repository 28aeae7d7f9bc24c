"""The training-set subset of ``train_size``: its size, its stability and its nesting."""

import numpy as np
import pytest
import torch

from sslgeom.training.loop import training_subset

N_IMAGES = 1000


@pytest.mark.parametrize("size", [2, 37, 500, N_IMAGES])
def test_subset_has_the_requested_size_of_distinct_sorted_valid_indices(size):
    subset = training_subset(N_IMAGES, size)
    assert len(subset) == size
    assert len(set(subset.tolist())) == size
    assert np.all(np.diff(subset) > 0)
    assert subset.min() >= 0 and subset.max() < N_IMAGES


def test_null_size_takes_every_image_in_order():
    np.testing.assert_array_equal(training_subset(N_IMAGES, None), np.arange(N_IMAGES))


def test_subset_is_spread_over_the_split_not_its_first_images():
    subset = training_subset(N_IMAGES, 100)
    # A uniform draw of 100 of 1000 has its largest index above 900 with probability
    # 1 − (901 choose 100) / (1000 choose 100) > 0.9999; the first 100 would stop at 99.
    assert subset.max() > 900


def test_subset_does_not_depend_on_the_runs_seed_or_the_global_random_state():
    subsets = []
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        np.random.seed(seed)
        subsets.append(training_subset(N_IMAGES, 300))
    for subset in subsets[1:]:
        np.testing.assert_array_equal(subset, subsets[0])


def test_smaller_subsets_lie_inside_larger_ones():
    sizes = [10, 50, 300, 999]
    subsets = [set(training_subset(N_IMAGES, size).tolist()) for size in sizes]
    for smaller, larger in zip(subsets, subsets[1:], strict=False):
        assert smaller < larger
