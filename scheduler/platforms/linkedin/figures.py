"""LinkedIn organisation share statistics (`/rest/organizationalEntityShareStatistics`, lifetime:
no time intervals): impressions, unique impressions, clicks, likes, comments, shares. Needs
`rw_organization_admin` as an ADMINISTRATOR of the page; otherwise 403 ACCESS_DENIED: the report
says so. LinkedIn keeps these for 12 months."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from scheduler.platforms.figures import Figures, as_int, not_given_on_permission


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        key = "ugcPosts" if remote_id.startswith("urn:li:ugcPost:") else "shares"
        # Rest.li 2.0: URNs inside List(...) are URL-encoded; the query string is built by hand so
        # requests does not encode the parentheses and commas again.
        query = (f"q=organizationalEntity&organizationalEntity={quote(publisher.owner, safe='')}"
                 f"&{key}=List({quote(remote_id, safe='')})")
        body = publisher.read("/organizationalEntityShareStatistics?" + query, what="share statistics")
        elements = body.get("elements") or []
        stats = (elements[0].get("totalShareStatistics") or {}) if elements else {}
        if not elements:
            return Figures(raw=body, not_given=f"LinkedIn has no statistics for {remote_id} (older than 12 months?)")
        return Figures(raw=stats, impressions=as_int(stats.get("impressionCount")), reach=as_int(stats.get("uniqueImpressionsCount")),
                       likes=as_int(stats.get("likeCount")), reposts=as_int(stats.get("shareCount")),
                       replies=as_int(stats.get("commentCount")), link_clicks=as_int(stats.get("clickCount")))

    return not_given_on_permission(publisher, call)
