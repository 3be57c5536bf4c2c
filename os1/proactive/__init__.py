"""Being there: reminders, follow-ups, check-ins and connection nudges, run by a job runner you can trust."""

from .inbox import Delivery, Inbox, InboxItem
from .jobs import Job, JobQueue, JobRunner, Outcome
from .reminders import Reminder, Reminders, reminder_request
from .service import Noticed, Proactive
from .settings import CheckinSettings, SettingsStore
from .when import When, find_when, next_after, parse_when

__all__ = [
    "CheckinSettings", "Delivery", "Inbox", "InboxItem", "Job", "JobQueue", "JobRunner", "Noticed", "Outcome",
    "Proactive", "Reminder", "Reminders", "SettingsStore", "When", "find_when", "next_after", "parse_when",
    "reminder_request",
]
