"""The command-line shell: `multishot COMMAND`. Presents; the core decides."""
