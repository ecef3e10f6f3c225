"""A small daemon entry point for the kill and two-daemon tests (run as a subprocess).

usage: python -m testkit.daemon_entry URL SCHEMA|- LEDGER (pass AT_ISO | month) [--find]
`pass` runs one dispatch pass at AT; `month` walks a FakeClock through every due time.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from campaign.clock import FakeClock
from testkit.scheduler import LedgerPublisher
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.store import Store


def main(argv: list[str]) -> int:
    url, schema, ledger, mode = argv[:4]
    store = Store(url, schema=None if schema == "-" else schema, create=False)
    publisher = LedgerPublisher(Path(ledger), can_find_existing="--find" in argv)
    if mode == "pass":
        clock = FakeClock(dt.datetime.fromisoformat(argv[4]))
        Dispatcher(store, clock, lambda _c: publisher, config=DispatchConfig(lease_seconds=30)).run_once()
        return 0
    first = store.next_due_at()
    clock = FakeClock(first or dt.datetime.now(dt.timezone.utc))
    dispatcher = Dispatcher(store, clock, lambda _c: publisher, config=DispatchConfig(lease_seconds=90 * 86400))  # the two fake clocks drift apart by weeks
    while (due := store.next_due_at()) is not None:
        if due > clock.now():
            clock.set(due)
        dispatcher.run_once()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
