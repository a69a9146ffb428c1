"""Training: the trainer, the model zoo, anomaly scorers, evaluation plots, and the project workflow.

* :mod:`.trainer` — seeded, deterministic PyTorch training (classifiers, autoencoders);
* :mod:`.zoo` — models sized for microcontrollers (MLP, 1-D CNN, CNN, DS-CNN, autoencoder);
* :mod:`.anomaly` — Gaussian, k-means and reconstruction-error scorers with C twins;
* :mod:`.settings`, :mod:`.dataset`, :mod:`.workflow`, :mod:`.build` — ``leafml train``,
  ``leafml test`` and ``leafml build`` in a project folder;
* :mod:`.plots` — evaluation plots; :mod:`.device_shim` — generated C through the firmware harnesses.
"""
