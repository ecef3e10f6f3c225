"""The CLI's commands, one module per part they drive; each has `register(app)`."""
