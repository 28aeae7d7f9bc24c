"""Geometry and quality metrics of embedding matrices (rows = samples), one module per family:
``spectrum``, ``invariance``, ``probes``, ``latents``, ``neighbours`` and ``similarity``."""
