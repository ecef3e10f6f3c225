"""The tests' helpers, one importable package (the root conftest.py puts the repository on
`sys.path`): tiny media and calendars made in code, emulator rigs, stand-in publishers, store
fixtures, the fault harness and the real-PDS referee's launcher.

- `assets`: tiny source photos and clips, sample calendars for the asset tests
- `channels`: media, a media server and emulator+publisher rigs for the channel tests
- `console`: a console with a store, accounts and a calendar (`make_rig`)
- `daemon_entry`: a small daemon process for the kill tests (`python -m testkit.daemon_entry`)
- `fault_harness`: real daemons and emulators under injected faults (`python -m testkit.fault_harness`)
- `faults`: fault plans' publishers and media for benchmarks and the harness
- `ocr`: Tesseract as the legibility referee
- `pds_server`, `pds_cases`: the real Bluesky PDS and the answers recorded from it
- `plan`: small calendars built in code for the planner tests
- `results`: a published world to collect figures from
- `scheduler`: stand-in publishers with a ledger, stored posts, PostgreSQL schemas
- `stores`: store fixtures on SQLite and PostgreSQL
"""
