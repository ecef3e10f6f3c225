"""Plans the calendar into posts and publishes them: planning, channels, store, daemon."""
