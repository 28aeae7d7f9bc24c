"""The pipeline's figures, one module per family: :mod:`~sslgeom.plots.core`,
:mod:`~sslgeom.plots.geometry` and :mod:`~sslgeom.plots.identifiability`, drawn in the shared
style of :mod:`~sslgeom.plots.style`. They only draw: what they show is computed by
:mod:`sslgeom.figure_tables`."""
