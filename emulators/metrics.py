"""The figures endpoints of every emulator, in each platform's real shape, with figures that grow
over the emulator's (campaign) clock in a deterministic, seeded way, so the sandbox and the demo
show a full report and tests can predict every number.

A post's figures follow `final * (1 - exp(-age / 18 h))`: most of the reach comes in the first
day, as on the platforms. `final` comes from a hash of the platform and the post's id. An account
listed by `deny(emulator, account)` gets each platform's real "missing permission" answer; the
`rate_limit` fault with `on="metrics"` gives its real rate-limit answer. Each emulator says which
requests ask for figures (`serves_figures`) and answers them with its function here (`figures`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any
from urllib.parse import unquote

from emulators.base import Emulator
from emulators.wire import Reject, Reply, Request

GROWTH_HOURS = 18.0
#: each figure as a share of the audience
SHARE = {"reach": 0.62, "likes": 0.031, "reposts": 0.006, "replies": 0.004, "quotes": 0.001, "clicks": 0.012,
         "video_views": 0.45, "saves": 0.003, "unique_video": 0.5}


def deny(emulator: Emulator, account: str) -> None:
    """From now on `account` may publish but gets no figures (a token without insights permission)."""
    denied = emulator.__dict__.setdefault("metrics_denied", set())
    denied.add(account)


def _denied(emulator: Emulator, account: str) -> bool:
    return account in emulator.__dict__.get("metrics_denied", set())


def _unit(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def figure(emulator: Emulator, post_id: str, name: str, age_seconds: float) -> int:
    """One figure of one post at one age: deterministic, never decreasing with age. The emulator's
    `audience` is its platform's typical lifetime impressions of one post (seeded 0.4x to 1.6x)."""
    platform = emulator.platform
    audience = emulator.audience * (0.4 + 1.2 * _unit(platform, post_id))
    final = audience * (1.0 if name == "impressions" else SHARE[name] * (0.8 + 0.4 * _unit(platform, post_id, name)))
    return int(final * (1.0 - math.exp(-max(0.0, age_seconds) / (GROWTH_HOURS * 3600))))


def _age(emulator: Emulator, entry: dict[str, Any]) -> float:
    created = dt.datetime.fromisoformat(entry["received_at"])
    return (emulator.now() - created).total_seconds()


def _entry(emulator: Emulator, post_id: str) -> dict[str, Any] | None:
    return next((p for p in emulator.published if p["id"] == post_id), None)


# -- per platform -------------------------------------------------------------------------------


def bluesky(emulator: Any, request: Request) -> Reply:
    repo = emulator._auth(request)
    if _denied(emulator, repo.handle):  # what a PDS without an AppView answers (checked on the real PDS)
        raise Reject(400, "No service configured for app.bsky.feed.getPosts", error="InvalidRequest")
    uris = request.query_all("uris")
    if len(uris) > 25:
        raise Reject(400, "Error: uris must not have more than 25 elements", error="InvalidRequest")
    posts = []
    for uri in uris:
        entry = _entry(emulator, uri)
        if entry is None:
            continue  # the AppView leaves out what it does not know
        age = _age(emulator, entry)
        counts = {"likeCount": figure(emulator, uri, "likes", age), "repostCount": figure(emulator, uri, "reposts", age),
                  "replyCount": figure(emulator, uri, "replies", age), "quoteCount": figure(emulator, uri, "quotes", age)}
        posts.append({"uri": uri, "cid": entry.get("cid", ""), "author": {"did": entry.get("did"), "handle": entry["account"]},
                      "record": {"$type": "app.bsky.feed.post", "text": entry.get("text", "")},
                      "indexedAt": entry["received_at"], **counts})
    return Reply(200, {"posts": posts})


def mastodon(emulator: Any, request: Request) -> Reply:
    """The status as the emulator keeps it (what Mastodon.py reads), with its counts at this age."""
    account = emulator.account_for(request.bearer())
    if account is None:
        raise Reject(401, "The access token is invalid")
    if _denied(emulator, account):  # a token without the read:statuses scope
        raise Reject(403, "This action is outside the authorized scopes")
    status_id = request.path.rsplit("/", 1)[-1]
    reply = emulator._one_status(status_id)
    entry = _entry(emulator, status_id)
    if entry is not None:
        age = _age(emulator, entry)
        reply.body = {**reply.body, "replies_count": figure(emulator, status_id, "replies", age),
                      "reblogs_count": figure(emulator, status_id, "reposts", age),
                      "favourites_count": figure(emulator, status_id, "likes", age)}
    return reply


def x(emulator: Emulator, request: Request) -> Reply:
    account = emulator.account_for(request.bearer())
    if account is None:
        raise Reject(401, "Unauthorized")
    if _denied(emulator, account):
        body = {"title": "Client Forbidden", "type": "https://api.twitter.com/2/problems/client-forbidden",
                "reason": "client-not-enrolled", "status": 403,
                "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
                          "Twitter developer App that is attached to a Project with the access level this endpoint needs."}
        return Reply(403, body, content_type="application/problem+json")
    if request.path == "/2/tweets":  # GET /2/tweets?ids=a,b (tweepy's get_tweets): found ones in data, the rest in errors
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids or len(ids) > 100:
            return emulator.error_reply(400, "The `ids` query parameter takes 1 to 100 tweet ids")
        found: dict[str, Any] = {}
        for tweet_id in ids:
            one = _x_tweet(emulator, account, tweet_id, request)
            if "data" in one:
                found.setdefault("data", []).append(one["data"])
            found.setdefault("errors", []).extend(one.get("errors", []))
            for key, items in one.get("includes", {}).items():
                found.setdefault("includes", {}).setdefault(key, []).extend(items)
        if not found["errors"]:
            del found["errors"]
        return Reply(200, found)
    return Reply(200, _x_tweet(emulator, account, request.path.rsplit("/", 1)[-1], request))


def _x_tweet(emulator: Emulator, account: str, tweet_id: str, request: Request) -> dict[str, Any]:
    """One tweet's lookup body in X's shape: `data`, or `errors` when it is not there."""
    entry = _entry(emulator, tweet_id)
    if entry is None:
        return {"errors": [{"value": tweet_id, "detail": f"Could not find tweet with id: [{tweet_id}].",
                            "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                            "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    age = _age(emulator, entry)
    fields = set(request.query.get("tweet.fields", "").split(","))
    data: dict[str, Any] = {"id": tweet_id, "text": entry.get("text", ""), "edit_history_tweet_ids": [tweet_id]}  # a default field
    body: dict[str, Any] = {"data": data}
    if "public_metrics" in fields:
        data["public_metrics"] = {"retweet_count": figure(emulator, tweet_id, "reposts", age),
                                  "reply_count": figure(emulator, tweet_id, "replies", age),
                                  "like_count": figure(emulator, tweet_id, "likes", age),
                                  "quote_count": figure(emulator, tweet_id, "quotes", age),
                                  "bookmark_count": figure(emulator, tweet_id, "saves", age),
                                  "impression_count": figure(emulator, tweet_id, "impressions", age)}
    if "non_public_metrics" in fields:
        if entry["account"] == account and age <= 30 * 86400:  # the author's own posts of the last 30 days only
            data["non_public_metrics"] = {"impression_count": figure(emulator, tweet_id, "impressions", age),
                                          "url_link_clicks": figure(emulator, tweet_id, "clicks", age),
                                          "user_profile_clicks": figure(emulator, tweet_id, "replies", age)}
        else:
            body["errors"] = [{"value": tweet_id, "detail": "Sorry, you are not authorized to access "
                               "'non_public_metrics' on the Tweet with ids: " + tweet_id, "title": "Field Authorization Error",
                               "resource_type": "tweet", "field": "non_public_metrics", "parameter": "tweet.fields",
                               "type": "https://api.twitter.com/2/problems/not-authorized-for-field"}]
    videos = [m for m in entry.get("media", []) if m.get("kind") == "video"]
    if videos and "attachments.media_keys" in request.query.get("expansions", ""):
        key = f"7_{tweet_id}"
        data["attachments"] = {"media_keys": [key]}
        body["includes"] = {"media": [{"media_key": key, "type": "video",
                                       "public_metrics": {"view_count": figure(emulator, tweet_id, "video_views", age)}}]}
    return body


def _graph_insights(name_values: list[tuple[str, Any]], node: str) -> dict[str, Any]:
    return {"data": [{"name": name, "period": "lifetime", "values": [{"value": value}], "title": name.replace("_", " "),
                      "description": "", "id": f"{node}/insights/{name}/lifetime"} for name, value in name_values],
            "paging": {"previous": "", "next": ""}}


def _graph_node(emulator: Any, request: Request) -> tuple[str, str, dict[str, Any], float]:
    account = emulator.authorize(request)
    parts = emulator.split(request)
    node = parts[0]
    entry = _entry(emulator, node)
    if entry is None or entry["account"] != account:
        raise Reject(400, f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
                          "permissions, or does not support this operation", code=100, subcode=33)
    if _denied(emulator, account):
        raise Reject(400, "(#10) Application does not have permission for this action: requires "
                          f"{emulator.insights_permission}", code=10)
    return node, "/".join(parts[1:]), entry, _age(emulator, entry)


def facebook(emulator: Any, request: Request) -> Reply:
    node, edge, entry, age = _graph_node(emulator, request)
    f = lambda name: figure(emulator, node, name, age)  # noqa: E731 - local shorthand
    if edge == "":
        comments = f("replies")
        body: dict[str, Any] = {"id": node, "comments": {"data": [], "summary": {"order": "ranked", "total_count": comments,
                                                                                  "can_comment": True}}}
        if f("reposts"):
            body["shares"] = {"count": f("reposts")}  # Meta leaves `shares` out until someone shares
        return Reply(200, body)
    metrics = [m for m in request.query.get("metric", "").split(",") if m]
    if not metrics:
        raise Reject(400, "No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again.",
                     code=3001, subcode=1504028)
    known = {"post_impressions": f("impressions"), "post_impressions_unique": f("reach"), "post_clicks": f("clicks"),
             "post_reactions_by_type_total": {"like": f("likes"), "love": f("likes") // 5},
             "total_video_views": f("video_views"), "total_video_impressions": f("impressions"),
             "total_video_impressions_unique": f("reach"),
             "total_video_reactions_by_type_total": {"like": f("likes"), "love": f("likes") // 5}}
    wanted = "video_insights" if edge == "video_insights" else "insights"
    for metric in metrics:
        if metric not in known or (wanted == "insights") == metric.startswith("total_video"):
            raise Reject(400, f"(#100) The value must be a valid insights metric: {metric}", code=100)
    return Reply(200, _graph_insights([(m, known[m]) for m in metrics], node))


def instagram(emulator: Any, request: Request) -> Reply:
    node, edge, entry, age = _graph_node(emulator, request)
    if edge != "insights":
        raise Reject(400, f"Unsupported get request: {edge}", code=100)
    f = lambda name: figure(emulator, node, name, age)  # noqa: E731
    known = {"reach": f("reach"), "views": f("impressions"), "likes": f("likes"), "comments": f("replies"),
             "shares": f("reposts"), "saved": f("saves"), "total_interactions": f("likes") + f("replies") + f("saves")}
    metrics = [m for m in request.query.get("metric", "").split(",") if m]
    for metric in metrics:
        if metric not in known:
            raise Reject(400, f"(#100) metric[{metrics.index(metric)}] must be one of the following values: "
                              + ", ".join(known), code=100)
    return Reply(200, _graph_insights([(m, known[m]) for m in metrics], node))


def linkedin(emulator: Any, request: Request) -> Reply:
    account = emulator.account_for(request.bearer())
    if account is None:
        raise Reject(401, "Invalid access token", code=65600)
    if request.query.get("q") != "organizationalEntity":
        raise Reject(400, "q must be organizationalEntity", code=100)
    organisation = unquote(request.query.get("organizationalEntity", ""))
    if _denied(emulator, account):
        return Reply(403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                           "message": "Not enough permissions to access: organizationalEntityShareStatistics.GET.NO_VERSION"})
    raw = request.query.get("shares") or request.query.get("ugcPosts") or ""
    match = re.fullmatch(r"List\((.*)\)", raw)
    if not match:
        raise Reject(400, "shares must be given as List(urn...)", code=100)
    elements = []
    for urn in filter(None, (unquote(u) for u in match.group(1).split(","))):
        entry = _entry(emulator, urn)
        if entry is None or entry.get("author") != organisation:
            continue
        age = _age(emulator, entry)
        f = lambda name: figure(emulator, urn, name, age)  # noqa: E731
        stats = {"uniqueImpressionsCount": f("reach"), "shareCount": f("reposts"), "clickCount": f("clicks"),
                 "likeCount": f("likes"), "impressionCount": f("impressions"), "commentCount": f("replies")}
        stats["engagement"] = round((stats["clickCount"] + stats["likeCount"] + stats["commentCount"] + stats["shareCount"])
                                    / max(1, stats["impressionCount"]), 6)
        elements.append({"totalShareStatistics": stats, "organizationalEntity": organisation, "share": urn})
    return Reply(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})
