"""Runs: the spec, statuses, events, the results layout, the history and the engine."""
