"""The config: checks that fail before any job runs (:mod:`~sslgeom.config.validate`, which runs
those of each area's module), the grid and variants an experiment expands to
(:mod:`~sslgeom.config.experiments`), and the layer names a model will have, known without
building it (:mod:`~sslgeom.config.layers`). Nothing here imports torch, so the Snakefile loads
quickly."""
