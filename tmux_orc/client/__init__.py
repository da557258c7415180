"""The one way clients (the CLI, the demo, scripts) reach the daemon over D-Bus."""
