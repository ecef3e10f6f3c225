#!/usr/bin/env python3
"""Entry point: `python run.py --help` lists every command."""

from application.cli import main

if __name__ == "__main__":
    main()
