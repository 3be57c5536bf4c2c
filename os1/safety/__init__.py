"""Safety: the risk screen on every message, and what OS1 shows when it finds risk."""

from .screen import CRISIS_RESOURCES, FALLBACK_CRISIS_REPLY, screen

__all__ = ["CRISIS_RESOURCES", "FALLBACK_CRISIS_REPLY", "screen"]
