"""Repositories on this computer: landing a shot's changes in the user's own clone."""
