"""The outbox (files for a person to post by hand): its publisher and (no) text rules; its row in scheduler/platforms/registry.py."""
