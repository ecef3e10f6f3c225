"""30 days on the campaign clock, three daemons' renewal jobs on one PostgreSQL store: each X
token (2 h, single-use refresh tokens) is renewed once per renewal window, never three times,
and no refresh token is ever refused (a second renewal with a spent one would be)."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.connections.renew import renew_at
from testkit.connections import START, connect, race, token_rig
from testkit.scheduler import drop_pg_schema, pg_schema

pytestmark = pytest.mark.slow  # 30 days of 2-hour tokens: about 800 renewals raced by three daemons on PostgreSQL

CHANNELS = (("be-x", "belgium"), ("embassy-tokyo", "embassy-tokyo"))


def test_three_daemons_on_postgresql_renew_each_x_token_once_per_window(tmp_path):
    url, schema = pg_schema()
    rig = token_rig(tmp_path, url=url, schema=schema)
    try:
        for channel, account in CHANNELS:
            if account != rig.emulator.account:
                rig.emulator.add_account(account)
            connect(rig.vault, rig.emulator, channel, account, START)
        daemons = [rig.renewer(worker=f"host-{n}:{1000 + n}:w") for n in range(3)]
        end = START + dt.timedelta(days=30)
        windows = 0
        renewed_at: dict[str, list[dt.datetime]] = {c: [] for c, _ in CHANNELS}
        while True:
            due = min(renew_at(c) for c in rig.vault.all())
            if due >= end:
                break
            rig.clock.set(due + dt.timedelta(seconds=30))  # the daemons' jobs look a little after the margin starts
            before = {c.channel_id: c.version for c in rig.vault.all()}
            race(*(d.run_once for d in daemons))
            for connection in rig.vault.all():
                if connection.version != before[connection.channel_id]:
                    assert connection.version == before[connection.channel_id] + 1  # once, not once per daemon
                    renewed_at[connection.channel_id].append(rig.clock.now())
            windows += 1
        outcomes = [ok for _account, ok in rig.emulator.oauth.refreshes]
        assert all(outcomes), "a daemon renewed with a spent refresh token"
        for channel, times in renewed_at.items():
            gaps = {b - a for a, b in zip(times, times[1:])}
            # one renewal per window: 2 h minus X's 12-minute margin, plus the 30 s the jobs looked late
            assert gaps == {dt.timedelta(hours=2) - dt.timedelta(minutes=12) + dt.timedelta(seconds=30)}, gaps
            assert len(times) == len(set(times)) >= 390
        assert len(outcomes) == sum(len(t) for t in renewed_at.values())
        assert sum(c.renewals for c in rig.vault.all()) == len(outcomes)
        assert all(rig.emulator.oauth.live_refresh_tokens(a) == 1 for _c, a in CHANNELS)
    finally:
        rig.close()
        drop_pg_schema(schema)
