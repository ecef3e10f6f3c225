"""Render workers: jobs on a queue (procrastinate on PostgreSQL) rendered by `python run.py worker` on any machine."""
