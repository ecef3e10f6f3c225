"""The team's web console (`python run.py web`): the calendar, review, operations and results in
a browser, over the same store and the same actions (`scheduler.actions`) as the CLI."""
