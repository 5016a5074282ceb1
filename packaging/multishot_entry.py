"""The frozen executable's entry point: the same CLI (and tray app) as `python -m tray`."""

from tray.main import main

raise SystemExit(main())
