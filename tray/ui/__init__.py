"""The tray shell: pystray icon and menu, Tk dialogs, desktop notifications."""
