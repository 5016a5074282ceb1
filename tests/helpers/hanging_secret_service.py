"""Own ``org.freedesktop.secrets`` on the session bus and never answer, then run a command.

Usage (inside a private bus): dbus-run-session -- python hanging_secret_service.py CMD...
This plays a Secret Service stuck on an unlock prompt: calls to it block forever.
"""

from __future__ import annotations

import subprocess
import sys
import threading

from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection


def serve_silently(ready: threading.Event) -> None:
    connection = open_dbus_connection(bus="SESSION")
    connection.send_and_get_reply(message_bus.RequestName("org.freedesktop.secrets"))
    ready.set()
    while True:
        connection.receive()  # read and drop every call: no reply ever comes


def main() -> int:
    ready = threading.Event()
    threading.Thread(target=serve_silently, args=(ready,), daemon=True).start()
    if not ready.wait(timeout=10):
        print("the silent Secret Service did not start", file=sys.stderr)
        return 99
    return subprocess.run(sys.argv[1:], timeout=120, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
