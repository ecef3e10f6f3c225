"""UTM tags on a post's link, so the campaign's reach can be measured per platform and language."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


def add_utm(link: str, *, source: str, campaign: str, content: str, medium: str = "social") -> str:
    """`link` with utm_source/medium/campaign/content set.

    The existing query string and fragment are kept in order; a utm_ key already present
    (e.g. ``utm_source=newsletter`` copied from a mail) is replaced, never duplicated.
    """
    parts = urlsplit(link)
    ours = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign, "utm_content": content}
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key.lower() not in ours]
    query = urlencode(kept + list(ours.items()), safe="/:@,")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
