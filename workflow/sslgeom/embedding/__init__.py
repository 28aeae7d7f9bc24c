"""The embedding stage: every layer's embeddings of a run's data and views
(:mod:`~sslgeom.embedding.embeddings`), and the tangent directions the geometry analysis needs,
extracted while the model is loaded (:mod:`~sslgeom.embedding.tangents`);
:mod:`~sslgeom.embedding.run` writes one run's embeddings.npz."""
