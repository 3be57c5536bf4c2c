"""Storage: the engine with its single writer, and schema migrations."""

from .engine import Database, open_database

__all__ = ["Database", "open_database"]
