from tray.main import main

raise SystemExit(main())
