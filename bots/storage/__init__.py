"""Storage engines behind one small interface; TinyDB is the embedded default."""

from .base import Doc, Storage, StorageError
from .tinydb import TinyDBStorage

__all__ = ["Doc", "Storage", "StorageError", "TinyDBStorage"]
