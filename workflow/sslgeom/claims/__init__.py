"""The claims stage: what an experiment's tables say about the source papers' claims.

:mod:`~sslgeom.claims.rule` is the decision rule (a signed effect, its interval, a verdict);
:mod:`~sslgeom.claims.resampling` the test-set resamples behind the interval; one module per
claim family (:mod:`~sslgeom.claims.strength`, :mod:`~sslgeom.claims.geometry`,
:mod:`~sslgeom.claims.identifiability`, :mod:`~sslgeom.claims.controls`) states its claims;
:mod:`~sslgeom.claims.experiment` computes them all for one experiment and writes claims.csv
and claims.md. ``python -m sslgeom.claims results/{exp}/claims.csv`` prints one as Markdown.
"""
