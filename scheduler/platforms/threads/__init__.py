"""Threads: its publisher (`publisher.py`), figures (`figures.py`) and text rules (`text.py`); its row in
scheduler/platforms/registry.py, its media needs in campaign/platforms.py (media fetched by URL)."""
