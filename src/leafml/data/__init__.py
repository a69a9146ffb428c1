"""Samples for training: a project's store, its importers, serial capture and splits.

::

    from leafml.data import Store
    with Store("my_project") as store:              # the folder `leafml init` made
        report = store.import_folder("clips/")       # one subfolder per label
        store.split(test=0.2, val=0.1, seed=0, group_by="group")
        for sample in store.samples(split="train"):
            values = store.load(sample)              # float32 [length, axes]
"""

from leafml.data.index import SPLITS, Sample
from leafml.data.inputs import Duplicate, ImportReport
from leafml.data.recording import InputError, Recording, Sensor
from leafml.data.store import ImportStopped, Store

__all__ = [
    "SPLITS", "Duplicate", "ImportReport", "ImportStopped", "InputError", "Recording", "Sample", "Sensor", "Store",
]
