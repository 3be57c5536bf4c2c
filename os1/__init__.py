"""OS1: a local-first personal AI companion."""

from .clock import Clock, FakeClock, SystemClock
from .companion import Companion, CompanionConfig
from .config import Settings
from .errors import ConfigError, InputError, ModelError, ModelUnavailable, OS1Error, StoreError
from .models import ChatModel, EchoModel, ScriptedModel
from .types import (
    Emotion,
    Exchange,
    GenOptions,
    Message,
    Perceived,
    Profile,
    Recalled,
    RecalledMemory,
    ReplyDone,
    ReplyEvent,
    SafetyNotice,
    SafetyReading,
    TextDelta,
)

__version__ = "0.1.0"

__all__ = [
    "ChatModel", "Clock", "Companion", "CompanionConfig", "ConfigError", "EchoModel", "Emotion", "Exchange",
    "FakeClock", "GenOptions", "InputError", "Message", "ModelError", "ModelUnavailable", "OS1Error",
    "Perceived", "Profile", "Recalled", "RecalledMemory", "ReplyDone", "ReplyEvent", "SafetyNotice",
    "SafetyReading", "ScriptedModel", "Settings", "StoreError", "SystemClock", "TextDelta",
]
