"""The analysis stage, one module per job: :mod:`~sslgeom.analyses.per_run` (probes, invariance
and spectra of every layer of a run), :mod:`~sslgeom.analyses.geometry` (how a run's projector
treats tangent directions) and :mod:`~sslgeom.analyses.identifiability` (how similar the runs
of an experiment are). The formulas they apply live in :mod:`sslgeom.metrics`."""
