"""Which platform API versions are still served, so a sunset version is caught by `validate`
and `check` before the platform answers every post with an error.

Meta's Graph API (Facebook, Instagram) versions are available about two years; Meta's
changelog lists each expiry date, after which calls are answered by the oldest available
version instead (silently changed behaviour), so `validate` treats an expired one as an error.

LinkedIn's REST API is versioned by month (``LinkedIn-Version: YYYYMM``) and each version lives
about a year; a sunset version is answered HTTP 426 ``NONEXISTENT_VERSION``. Sunsets that
LinkedIn's Marketing API migrations page states are listed; the others are estimated as the
15th of the same month a year after release (the documented ones fall on the 15th/16th).
"""

from __future__ import annotations

import datetime as dt
import re

#: The version a LinkedIn channel uses when calendar.yaml names none (released 2026-11, sunset about 2027-11-15).
LINKEDIN_DEFAULT_VERSION = "202611"
#: Sunset dates as LinkedIn's migrations page lists them.
LINKEDIN_SUNSETS = {"202510": dt.date(2026, 10, 15), "202511": dt.date(2026, 11, 16)}
#: `validate` warns this long before a configured version's sunset.
SUNSET_WARNING = dt.timedelta(days=60)
_VERSION = re.compile(r"(\d{4})(\d{2})(?:\.\d{2})?")


class UnknownVersion(ValueError):
    """Not a LinkedIn version (YYYYMM or YYYYMM.NN)."""


#: The Graph API version Facebook and Instagram channels use when calendar.yaml names none.
GRAPH_DEFAULT_VERSION = "v25.0"
#: "Available until" dates from Meta's Graph API changelog (versions page).
GRAPH_EXPIRIES = {
    "v19.0": dt.date(2026, 5, 21), "v20.0": dt.date(2026, 9, 24), "v21.0": dt.date(2027, 1, 21),
    "v22.0": dt.date(2027, 5, 20), "v23.0": dt.date(2027, 10, 8), "v24.0": dt.date(2028, 2, 18),
    "v25.0": dt.date(2028, 7, 29),
}
_GRAPH_VERSION = re.compile(r"v(\d+)\.(\d+)")


def graph_version_problem(version: str, today: dt.date) -> tuple[str, str] | None:
    """("error" | "warning", message) for a Graph API version that expired or soon will."""
    match = _GRAPH_VERSION.fullmatch(str(version))
    if not match:
        return "error", f"`{version}` is not a Graph API version — write it as vNN.0, e.g. \"{GRAPH_DEFAULT_VERSION}\""
    fix = f"set api.version to a version Meta still serves (e.g. \"{GRAPH_DEFAULT_VERSION}\", see Meta's Graph API changelog)"
    expiry = GRAPH_EXPIRIES.get(version)
    if expiry is None:
        if int(match.group(1)) < 19:
            return "error", f"Graph API {version} expired long ago: Meta answers with the oldest available version instead — {fix}"
        return None  # newer than the changelog this list was taken from: still served
    if today >= expiry:
        return "error", f"Graph API {version} expired on {expiry:%Y-%m-%d}: Meta answers with the oldest available version instead — {fix}"
    if today >= expiry - SUNSET_WARNING:
        return "warning", f"Graph API {version} expires on {expiry:%Y-%m-%d} (in {(expiry - today).days} days) — {fix} before then"
    return None


def linkedin_release(version: str) -> dt.date:
    """First day of the month the version was released."""
    match = _VERSION.fullmatch(str(version))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UnknownVersion(f"`{version}` is not a LinkedIn API version — write it as YYYYMM, e.g. \"{LINKEDIN_DEFAULT_VERSION}\"")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def linkedin_sunset(version: str) -> dt.date:
    """The day LinkedIn stops serving `version` (documented, else estimated at one year)."""
    released = linkedin_release(version)
    return LINKEDIN_SUNSETS.get(str(version)[:6], dt.date(released.year + 1, released.month, 15))


def linkedin_version_problem(version: str, today: dt.date) -> tuple[str, str] | None:
    """("error" | "warning", message) when `version` is, or soon will be, refused; None when fine."""
    try:
        released, sunset = linkedin_release(version), linkedin_sunset(version)
    except UnknownVersion as error:
        return "error", str(error)
    fix = f"set api.version to a supported version (e.g. \"{LINKEDIN_DEFAULT_VERSION}\", see LinkedIn's API migrations page)"
    if today >= sunset:
        return "error", f"LinkedIn API version {version} was sunset on {sunset:%Y-%m-%d}: LinkedIn answers every call with HTTP 426 — {fix}"
    if today < released:
        return "error", f"LinkedIn API version {version} is not released yet (LinkedIn answers HTTP 426) — {fix}"
    if today >= sunset - SUNSET_WARNING:
        days = (sunset - today).days
        return "warning", f"LinkedIn API version {version} is sunset on {sunset:%Y-%m-%d} (in {days} days) — {fix} before then"
    return None
