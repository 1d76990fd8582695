"""What can go wrong with an index that a user can act on: missing, mismatched, corrupt, busy, unwritable."""

from __future__ import annotations


class IndexFailure(Exception):
    """Base class for index problems the user can act on."""


class IndexMissing(IndexFailure):
    pass


class IndexMismatch(IndexFailure):
    pass


class IndexCorrupt(IndexFailure):
    pass


class IndexBusy(IndexFailure):
    pass


class IndexWriteFailed(IndexFailure):
    """The new generation could not be written (disk full, I/O error); the previous one still serves."""
