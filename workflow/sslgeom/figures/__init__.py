"""The figures stage: :mod:`~sslgeom.figures.tables` computes what each figure shows from the
experiment's tables; :mod:`~sslgeom.figures.core`, :mod:`~sslgeom.figures.geometry`,
:mod:`~sslgeom.figures.identifiability` and :mod:`~sslgeom.figures.controls` only draw it, in
the shared style of :mod:`~sslgeom.figures.style`."""
