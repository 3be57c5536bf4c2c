"""Calendars: iCalendar (.ics) files and CalDAV accounts; events linked to OS1's reminders."""
