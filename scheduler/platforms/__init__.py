"""One module per platform behind one small interface (see `base.py`)."""
