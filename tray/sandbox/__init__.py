"""Sandboxes: the one place that talks to Daytona (and imports its SDK), and retries."""
