"""Geometry and quality metrics of embedding matrices (rows = samples)."""

from sslgeom.metrics.invariance import invariance, mean_view_cosine
from sslgeom.metrics.latents import (
    latent_r2_by_name,
    linear_r2,
    regression_targets,
)
from sslgeom.metrics.probes import knn_accuracy, linear_probe_accuracy
from sslgeom.metrics.spectrum import (
    alpha_req,
    covariance_eigenvalues,
    participation_ratio,
    rankme,
    singular_values,
)

__all__ = [
    "alpha_req",
    "covariance_eigenvalues",
    "invariance",
    "knn_accuracy",
    "latent_r2_by_name",
    "linear_probe_accuracy",
    "linear_r2",
    "mean_view_cosine",
    "participation_ratio",
    "rankme",
    "regression_targets",
    "singular_values",
]
