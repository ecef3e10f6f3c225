"""`python run.py check` and each publisher's `check()` (issue 11): credentials present and
accepted by the platform's own "who am I" call, API version served, Instagram's media host
reachable — one line per problem with the fix, exit 1 if any."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.channels import ACCOUNTS, channel
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for

ROOT = Path(__file__).resolve().parents[3]
PLATFORMS = ["facebook", "instagram", "x", "linkedin", "mastodon", "bluesky"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_accepted_credentials_pass_the_check(rigs, platform: str) -> None:
    r = rigs(platform)
    assert r.publisher.check() == []
    assert r.emulator.published == []  # a check never publishes


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_refused_token_is_a_blocking_problem(rigs, platform: str) -> None:
    r = rigs(platform)
    bad = {"IDENTIFIER": r.publisher.credentials.get("IDENTIFIER"), "PASSWORD": "wrong"} if platform == "bluesky" else {"TOKEN": "wrong"}
    publisher = publisher_for(channel(platform),
                              credentials=Credentials(f"be-{platform}", platform, bad), api_overrides=r.overrides, clock=r.clock,
                              timeout=5.0)
    problems = publisher.check()
    assert len(problems) == 1 and problems[0].blocking
    assert "wrong" not in problems[0].message  # never the secret


@pytest.mark.parametrize("platform", ["x", "mastodon", "facebook", "bluesky"])
def test_a_token_of_another_account_is_named(rigs, platform: str) -> None:
    r = rigs(platform)
    other = "BelgiumInCanada" if platform != "bluesky" else "canada.bsky.social"
    publisher = r.publisher_as(other)
    mine = channel(platform)
    token = publisher.credentials.values
    wrong = publisher_for(mine, credentials=Credentials(mine.id, platform, dict(token) | (
        {"IDENTIFIER": other} if platform == "bluesky" else {})), api_overrides=r.overrides, clock=r.clock, timeout=5.0)
    problems = wrong.check()
    assert problems and problems[0].blocking and ACCOUNTS[platform] in problems[0].message


def test_linkedin_sunset_version_is_blocking(rigs) -> None:
    r = rigs("linkedin")
    publisher = publisher_for(channel("linkedin"), credentials=r.publisher.credentials,
                              api_overrides={**r.overrides, "version": "202505"}, clock=r.clock, timeout=5.0)
    [problem] = publisher.check()
    assert problem.blocking and "202505" in problem.message and "api.version" in problem.message


def test_instagram_media_host_unreachable_is_blocking(rigs) -> None:
    r = rigs("instagram")
    publisher = publisher_for(channel("instagram"), credentials=r.publisher.credentials,
                              api_overrides={**r.overrides, "media_base_url": "http://127.0.0.1:9/campaign"}, clock=r.clock, timeout=5.0)
    [problem] = publisher.check()
    assert problem.blocking and "not reachable" in problem.message and "127.0.0.1:9" in problem.message


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unreachable_platform_is_named_with_the_address_tried(rigs, platform: str) -> None:
    """`check` said "could not reach bluesky" without the URL it tried (issue 23, 3): a wrong
    `api: base_url` or a proxy is found only when the address is in front of the manager."""
    r = rigs(platform)
    publisher = publisher_for(channel(platform), credentials=r.publisher.credentials,
                              api_overrides={**r.overrides, "base_url": "http://127.0.0.1:9/api"}, clock=r.clock, timeout=5.0)
    problems = publisher.check()
    assert problems and not problems[0].blocking, problems
    assert "could not reach" in problems[0].message and "127.0.0.1:9" in problems[0].message, problems[0].message


def test_facebook_without_app_credentials_warns_for_clips(rigs) -> None:
    r = rigs("facebook")
    publisher = publisher_for(channel("facebook"), clock=r.clock, timeout=5.0, api_overrides=r.overrides,
                              credentials=Credentials("be-facebook", "facebook", {"TOKEN": r.publisher.credentials.get("TOKEN")}))
    [problem] = publisher.check()
    assert not problem.blocking and "CAMPAIGN_BE_FACEBOOK_APP_ID" in problem.message and "CAMPAIGN_BE_FACEBOOK_USER_TOKEN" in problem.message


def _run_check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))  # no secrets file there
    return subprocess.run([sys.executable, "run.py", "check", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # runs the CLI as a process
def test_check_command_lists_every_channel_without_credentials(tmp_path) -> None:
    done = _run_check(tmp_path)
    assert done.returncode == 1, done.stderr
    lines = [l for l in done.stdout.splitlines() if "cannot publish" in l]
    assert len({l.split(" ")[0] for l in lines}) == 11  # every channel of the sample calendar but the outbox (some twice)
    x_line = next(l for l in lines if l.startswith("be-x (x):"))
    assert "CAMPAIGN_BE_X_TOKEN" in x_line
    media = [l for l in lines if "CAMPAIGN_MEDIA_URLS_KEY" in l]  # Instagram and Threads also lack the media-address key
    assert {l.split(" ")[0] for l in media} == {"be-instagram", "be-threads"}
    assert "0 of 11 channels ready" in done.stdout


@pytest.mark.slow  # runs the CLI as a process
def test_check_command_passes_against_the_emulators(tmp_path) -> None:
    done = _run_check(tmp_path, "--sandbox")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "11 of 11 channels ready" in done.stdout
    # an unaudited YouTube project is ready, and check says its videos will be private
    assert any(l.startswith("be-youtube (youtube): note:") and "private" in l for l in done.stdout.splitlines())
    # each channel's expiry: X connected through the emulator's OAuth (2 h, renews itself), Bluesky's app password
    x_line = next(l for l in done.stdout.splitlines() if l.startswith("be-x (connected)"))
    assert "access token until" in x_line and "renews itself (single-use refresh tokens)" in x_line, x_line
    assert any(l.startswith("embassy-washington (app password): does not expire") for l in done.stdout.splitlines())
