"""Who OS1 is: its name, and how it first meets you."""

from .meeting import choose_name, detect_companion_rename, detect_user_name

__all__ = ["choose_name", "detect_companion_rename", "detect_user_name"]
