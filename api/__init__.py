"""The composition root: settings, service wiring and the command line."""
