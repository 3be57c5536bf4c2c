"""Letters in the user's own voice: write, proofread with suggestions to accept or reject, export."""
