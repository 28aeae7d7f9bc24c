"""The pretraining stage: where positive pairs come from (:mod:`~sslgeom.training.views`, with
:mod:`~sslgeom.training.augment` and :mod:`~sslgeom.training.conditionals`), what a method
optimises (:mod:`~sslgeom.training.methods`, :mod:`~sslgeom.training.losses`), for how long
(:mod:`~sslgeom.training.length`), the loop with its checkpoints and exact resume
(:mod:`~sslgeom.training.loop`), and one run's pretrain job (:mod:`~sslgeom.training.run`)."""
