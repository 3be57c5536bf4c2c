"""Affect: reading how the user feels."""

from .reading import guidance, read_emotion

__all__ = ["guidance", "read_emotion"]
