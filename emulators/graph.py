"""Shared Meta Graph API behaviour for the Facebook and Instagram emulators: versioned
paths, the token (Bearer header or access_token parameter) and the account it acts as,
the error shape and the usage headers that carry the rate-limit wait."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from emulators.base import Emulator
from emulators.wire import Reject, Reply, Request

VERSIONED = re.compile(r"^/(v\d+\.\d+)/(.+)$")


class GraphEmulator(Emulator):
    rate_code = 80001
    #: the permission Meta names when an account may not read insights
    insights_permission = ""

    def serves_figures(self, request: Request) -> bool:
        """Insights edges, and a post's counts (`fields=...summary(true)`)."""
        return request.method == "GET" and (re.search(r"/(insights|video_insights)$", request.path) is not None
                                            or "summary" in request.query.get("fields", ""))

    def split(self, request: Request) -> list[str]:
        match = VERSIONED.match(request.path)
        if not match:
            raise Reject(400, "Unknown path components: Graph API paths start with a version such as /v21.0/", code=2500,
                         type="OAuthException")
        return match.group(2).strip("/").split("/")

    def authorize(self, request: Request) -> str:
        """The account (Page or Instagram user id) the request's token acts as."""
        token = request.bearer() or request.field("access_token")
        if not token:
            raise Reject(400, "An active access token must be used to query information about the current user.", code=2500,
                         type="OAuthException")
        account = self.account_for(token)
        if self.take("expired_token") is not None or account is None:
            raise Reject(400, "Error validating access token: Session has expired.", code=190, subcode=463, type="OAuthException")
        return account

    def require_owner(self, account: str, node: str) -> None:
        """A Page token publishes only on its own Page (an Instagram token on its own user)."""
        if node != account:
            raise Reject(400, f"(#200) The token of {account} may not publish on {node}: permissions error", code=200,
                         type="OAuthException")

    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        code = extra.get("code", 100 if status < 500 else 2)
        error = {"message": message, "type": extra.get("type", "OAuthException" if code == 190 else "GraphMethodException"),
                 "code": code, "fbtrace_id": f"emu{self.next_id()}"}
        if extra.get("subcode"):
            error["error_subcode"] = extra["subcode"]
        if extra.get("user_msg"):
            error["error_user_msg"] = extra["user_msg"]
        http = 400 if status in (413, 415) else status
        return Reply(http, {"error": error}, headers=extra.get("headers", {}))

    def server_error_reply(self) -> Reply:
        return self.error_reply(500, "An unexpected error has occurred. Please retry your request later.", code=2)

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:
        minutes = max(1, math.ceil(retry_after / 60))
        usage = {"1234567890": [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 60,
                                 "estimated_time_to_regain_access": minutes}]}
        code = int(params.get("code", self.rate_code))
        return self.error_reply(400, "(#%d) There have been too many calls. Please wait a bit and try again." % code, code=code,
                                headers={"X-Business-Use-Case-Usage": json.dumps(usage),
                                         "X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 40, "total_time": 60})})
