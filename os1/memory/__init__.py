"""Memory: what OS1 keeps of your conversations, and how it brings it back."""

from .recall import recall
from .store import ConversationStore, SqlConversationStore

__all__ = ["ConversationStore", "SqlConversationStore", "recall"]
