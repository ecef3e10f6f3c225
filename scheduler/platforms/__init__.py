"""One package per platform (`<name>/`: publisher, figures, text rules) behind one small interface
(`base.py`), listed in one table (`registry.py`). Shared here: HTTP handling (`http.py`), Meta's
Graph API (`graph.py`), credentials, figures, text helpers and the pre-campaign `check`."""
