"""Files of an import that are not in the store until the import commits.

An import writes each new file into its own staging folder
(``data/staging/<random>/``). When every input is decoded, `publish` moves
the files to their places with ``os.replace`` (atomic within one file
system), then the index transaction commits. If anything fails before the
commit, `retract` removes exactly the files `publish` moved in, and the
staging folder goes in every case: the store's files are as they were.

Files are named by the hash of their content, so a file that is already in
place is the same file: it is left alone and never retracted.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import numpy as np

__all__ = ["Staging"]


class Staging:
    """New store files waiting for an import to commit."""

    def __init__(self, store_dir: Path):
        self.store_dir = store_dir
        self.folder = store_dir / "staging" / uuid.uuid4().hex
        self.folder.mkdir(parents=True)
        self._pending: dict[str, Path] = {}  # place in the store -> staged file
        self._published: list[Path] = []
        self._made_folders: list[Path] = []
        self._count = 0

    def __contains__(self, place: str) -> bool:
        return place in self._pending

    def add_array(self, place: str, values: np.ndarray) -> None:
        """Stage ``values`` as the ``.npy`` file ``place`` (relative to the store)."""
        staged = self._staged(place)
        with open(staged, "wb") as file:
            np.save(file, values, allow_pickle=False)

    def add_bytes(self, place: str, data: bytes) -> None:
        """Stage ``data`` as the file ``place`` (relative to the store)."""
        self._staged(place).write_bytes(data)

    def discard(self, places: list[str]) -> None:
        """Forget staged files of an input that was skipped."""
        for place in places:
            self._pending.pop(place).unlink()

    def _staged(self, place: str) -> Path:
        self._count += 1
        staged = self.folder / str(self._count)
        self._pending[place] = staged
        return staged

    def publish(self) -> None:
        """Move every staged file to its place in the store."""
        for place, staged in self._pending.items():
            target = self.store_dir / place
            if target.exists():
                continue
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True)
                self._made_folders.append(target.parent)
            os.replace(staged, target)
            self._published.append(target)

    def retract(self) -> None:
        """Remove the files `publish` moved in (the import did not commit)."""
        for target in reversed(self._published):
            target.unlink(missing_ok=True)
        for folder in reversed(self._made_folders):
            folder.rmdir()
        self._published.clear()
        self._made_folders.clear()

    def close(self) -> None:
        """Remove the staging folder and whatever is left in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()
        except OSError:
            pass  # another import is staging beside us
