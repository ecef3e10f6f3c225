"""LinkedIn versions (issue 11, finding 6): the default is one LinkedIn serves today, and a
sunset version gets LinkedIn's own 426 answer, which pauses the channel with the fix."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from campaign.api_versions import LINKEDIN_DEFAULT_VERSION, linkedin_version_problem
from campaign.clock import FakeClock
from testkit.channels import FAKE_TOKEN, channel
from scheduler.platforms.base import AuthError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import start_emulator

TODAY = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
POST = {"author": "urn:li:organization:4242", "commentary": "Belgium, seen by others", "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}


@pytest.fixture
def linkedin():
    emulator = start_emulator("linkedin", token=FAKE_TOKEN, account="urn:li:organization:4242", clock=FakeClock(TODAY))
    yield emulator
    emulator.stop()


def _post(emulator, version: str) -> requests.Response:
    return requests.post(f"{emulator.api_url}/posts", timeout=5, json=POST,
                         headers={"Authorization": f"Bearer {FAKE_TOKEN}", "LinkedIn-Version": version,
                                  "X-Restli-Protocol-Version": "2.0.0"})


def test_default_version_is_served_today_and_for_months() -> None:
    assert linkedin_version_problem(LINKEDIN_DEFAULT_VERSION, TODAY.date()) is None
    assert linkedin_version_problem(LINKEDIN_DEFAULT_VERSION, TODAY.date() + dt.timedelta(days=240)) is None


@pytest.mark.parametrize("version", ["202505", "202510", "202511", "202701"])
def test_emulator_answers_426_outside_its_window_as_linkedin_does(linkedin, version: str) -> None:
    answer = _post(linkedin, version)
    assert answer.status_code == 426
    assert answer.json() == {"status": 426, "code": "NONEXISTENT_VERSION", "message": f"Requested version {version}01 is not active"}


def test_emulator_serves_the_default_version(linkedin) -> None:
    assert _post(linkedin, LINKEDIN_DEFAULT_VERSION).status_code == 201


def test_publisher_defaults_to_a_served_version_and_names_the_fix_for_a_sunset_one(linkedin) -> None:
    from testkit.channels import make_post

    overrides = {"base_url": linkedin.api_url, "video_base_url": linkedin.base_url}
    credentials = Credentials("be-linkedin", "linkedin", {"TOKEN": FAKE_TOKEN})
    clock = FakeClock(TODAY)
    default = publisher_for(channel("linkedin"), credentials=credentials, api_overrides=overrides, clock=clock)
    assert default.publish(make_post("linkedin", None, text="Belgium, seen by others")).remote_id
    sunset = publisher_for(channel("linkedin"), credentials=credentials, api_overrides={**overrides, "version": "202510"}, clock=clock)
    with pytest.raises(AuthError) as caught:
        sunset.publish(make_post("linkedin", None, text="Belgium, seen by others, again"))
    message = str(caught.value)
    assert "202510" in message and "api.version" in message and LINKEDIN_DEFAULT_VERSION in message
    assert caught.value.platform_code == "NONEXISTENT_VERSION"
