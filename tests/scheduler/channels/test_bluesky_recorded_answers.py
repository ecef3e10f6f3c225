"""The Bluesky emulator answers as the real @atproto/pds did (pds_answers.json, recorded from it
and re-checked against it by test_bluesky_pds_contract.py), so it stays held to the real
server even on machines without Node."""

from __future__ import annotations

from testkit import pds_cases
from emulators.bluesky import BlueskyEmulator


def test_the_emulator_answers_every_recorded_request_as_the_real_pds() -> None:
    recorded = pds_cases.recorded()
    assert len(recorded) >= 15 and recorded["createRecord taken key"]["status"] == 500
    with BlueskyEmulator(identifier="alice.test", password="alice-pass-123", video_service=False) as emulator:
        observed = pds_cases.run_cases(emulator.base_url, "alice.test", "alice-pass-123")
    assert pds_cases.differences(recorded, observed) == []


def test_a_difference_from_the_recording_is_reported() -> None:
    """The comparison can fail: an emulator answering a taken key with 400 (as this one did) is caught."""
    recorded = pds_cases.recorded()
    altered = {case: dict(answer) for case, answer in recorded.items()}
    altered["createRecord taken key"].update(status=400, error="InvalidRequest")
    assert pds_cases.differences(recorded, altered) == [
        "createRecord taken key: status is 400, the real PDS answered 500",
        "createRecord taken key: error is 'InvalidRequest', the real PDS answered 'InternalServerError'"]


def test_a_missing_real_pds_fails_in_ci_and_only_skips_elsewhere(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from testkit import pds_server

    monkeypatch.setenv("CAMPAIGN_PDS_SCRIPTS", str(tmp_path))  # no start_pds.sh there
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("CAMPAIGN_REQUIRE_PDS", raising=False)
    with pytest.raises(pytest.skip.Exception):
        next(pds_server.start())
    for name, value in (("CAMPAIGN_REQUIRE_PDS", "1"), ("CI", "true")):
        monkeypatch.setenv(name, value)
        with pytest.raises(pytest.fail.Exception, match="required"):
            next(pds_server.start())
        monkeypatch.delenv(name)
