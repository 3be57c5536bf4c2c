"""Mail over IMAP and SMTP: read, sort, find, draft replies in the user's voice, send after a yes."""
