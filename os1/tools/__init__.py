"""Daily-life tools: mail (IMAP/SMTP), calendars (iCalendar files, CalDAV) and letters, each declaring its
schema and its risk; untrusted content quarantined; anything that sends, deletes or spends waits for a yes."""

from .base import CONFIRM_RISKS, Plan, Registry, Risk, Tool, ToolContext, ToolOutput
from .confirm import Action, Actions, read_answer
from .credentials import FileSecrets, KeyringSecrets, SecretStore, open_secrets
from .intent import Intents, detect
from .quarantine import fence, sanitize
from .suspicion import Suspicion, inspect
from .toolbox import Toolbox, ToolStep

__all__ = [
    "CONFIRM_RISKS", "Action", "Actions", "FileSecrets", "Intents", "KeyringSecrets", "Plan", "Registry", "Risk",
    "SecretStore", "Suspicion", "Tool", "ToolContext", "ToolOutput", "ToolStep", "Toolbox", "detect", "fence",
    "inspect", "open_secrets", "read_answer", "sanitize",
]
