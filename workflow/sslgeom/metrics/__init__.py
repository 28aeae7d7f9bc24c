"""The formulas the analyses apply to embedding matrices (rows = samples), one module per
family: ``spectrum``, ``invariance``, ``probes``, ``latents``, ``neighbours``, ``similarity``
and ``subspaces`` (tangent estimates and how a Jacobian treats a subspace)."""
