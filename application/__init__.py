"""The application, above every part it drives: the CLI (`cli.py`, one module per part in
`commands/`), the demo and the rehearsal (the daemon against the emulators on a fast clock)."""
