"""Seeded train/test splits of labelled examples."""

import math

import numpy as np


def test_count(n_examples: int, n_test: int | None, test_fraction: float | None) -> int:
    """The test-set size asked for: ``n_test`` itself, else ⌈test_fraction · n_examples⌉ (as
    scikit-learn's ``train_test_split`` rounds a fraction)."""
    if n_test is not None:
        return n_test
    return math.ceil(test_fraction * n_examples)


def stratified_split(
    labels: np.ndarray, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, test) indices, the test set of ``n_test`` drawn class by class.

    Each class gets its share of the test set in proportion to its size: the whole parts of
    ``n_test · class size / n``, and the rest one each to the classes with the largest
    fractional parts, ties broken in the order of ``rng.permutation`` over the classes (so
    equal classes get ``n_test // classes`` each and the remainder goes to classes drawn from
    ``rng``). Raises ValueError when a class would keep no training example.
    """
    if n_test < 0:
        raise ValueError(f"n_test={n_test} must not be negative")
    classes, class_sizes = np.unique(labels, return_counts=True)
    quotas = n_test * class_sizes / len(labels)
    per_class = np.floor(quotas).astype(np.int64)
    tie_order = rng.permutation(len(classes))
    by_fraction = tie_order[np.argsort(-(quotas - per_class)[tie_order], kind="stable")]
    per_class[by_fraction[: n_test - per_class.sum()]] += 1
    emptied = np.flatnonzero(per_class >= class_sizes)
    if len(emptied):
        first = emptied[0]
        raise ValueError(
            f"n_test={n_test} must leave every class training examples; class "
            f"{classes[first]} would give all its {class_sizes[first]} to the test set"
        )
    chosen = [
        rng.permutation(np.flatnonzero(labels == label))[:count]
        for label, count in zip(classes, per_class, strict=True)
    ]
    test_indices = rng.permutation(np.concatenate(chosen))
    train_indices = rng.permutation(np.setdiff1d(np.arange(len(labels)), test_indices))
    return train_indices, test_indices
