"""sslgeom: the library behind the pipeline, one subpackage per stage of the DAG.

``data`` (datasets) → ``training`` (views, methods, losses, the loop) → ``embedding`` (every
layer's embeddings and tangents) → ``analyses`` (per run, geometry, identifiability, applying
``metrics``) → ``claims`` (verdicts with intervals) → ``figures`` (tables, then drawings).
Shared kinds of things: ``models``, ``config`` (checks and the experiment grid), ``io``
(artifacts, tables, logs, code fingerprints), ``device``; ``results`` opens an experiment's
results in a notebook.
"""
