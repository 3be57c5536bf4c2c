"""Chat models: one streaming interface, several backends."""

from .base import Capabilities, ChatModel, complete
from .echo import EchoModel
from .registry import resolve, statuses
from .scripted import ScriptedModel

__all__ = ["Capabilities", "ChatModel", "EchoModel", "ScriptedModel", "complete", "resolve", "statuses"]
