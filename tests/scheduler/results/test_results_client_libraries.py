"""The platforms' own client libraries read the figures our emulators serve: tweepy's
`get_tweet` with `public_metrics` and Mastodon.py's `status`. Where they read the same numbers
as our collectors, the figures speak the real contract, not only our collectors' idea of it."""

from __future__ import annotations

import datetime as dt

from testkit.channels import FAKE_TOKEN, tweepy_on
from mastodon import Mastodon
from testkit.results import World

from scheduler.results.store import ResultsStore


def test_tweepy_and_mastodon_py_read_the_figures_our_collectors_stored(world: World) -> None:
    x_post, masto_post = world.publish("x", 1), world.publish("mastodon", 1)
    world.clock.advance(dt.timedelta(hours=24))
    world.collector(publishing_due=lambda now: False).run_once()
    rows = {r["post_id"]: r for r in ResultsStore(world.store).figure_rows()}

    tweet_id = world.store.get(x_post).remote_id
    tweet = tweepy_on(world.emulators["x"], FAKE_TOKEN).get_tweet(
        tweet_id, tweet_fields=["public_metrics", "non_public_metrics"], user_auth=False)
    metrics = tweet.data.public_metrics
    assert metrics["like_count"] == rows[x_post]["likes"]
    assert metrics["impression_count"] == rows[x_post]["impressions"]
    assert metrics["retweet_count"] + metrics["quote_count"] == rows[x_post]["reposts"]
    assert tweet.data.non_public_metrics["url_link_clicks"] == rows[x_post]["link_clicks"]

    status_id = world.store.get(masto_post).remote_id
    status = Mastodon(access_token=FAKE_TOKEN, api_base_url=world.emulators["mastodon"].base_url).status(status_id)
    assert (status.favourites_count, status.reblogs_count, status.replies_count) == (
        rows[masto_post]["likes"], rows[masto_post]["reposts"], rows[masto_post]["replies"])
