"""Instagram publisher (Graph API content publishing): container -> poll status -> media_publish.

Instagram fetches the media itself from a public URL: `OutgoingMedia.public_url` when the
caller knows it, else `api.media_base_url + "/" + relative_path` (the sandbox serves the
build folder there). No idempotency: a lost answer to media_publish is `OutcomeUnknown`.
The container id goes into the step ledger; a container still processing answers `Pending`
and a later pass continues from it.
"""

from __future__ import annotations

import requests

from campaign.api_versions import graph_version_problem
from scheduler.platforms.graph import GraphPublisher
from scheduler.platforms.base import ChannelProblem, OutgoingPost, PermanentError, PublishResult, StepLedger


class InstagramPublisher(GraphPublisher):
    platform = "instagram"
    can_find_existing = False

    def check(self) -> list[ChannelProblem]:
        me, problems = self.ask(lambda: self.json(self.request("GET", self._graph("me"), what="who am I", headers=self._auth,
                                                               params={"fields": "id,username"})), what="the token")
        if me is not None:
            problems = self.acting_as(self.account, me.get("id"), me.get("username"))
        found = graph_version_problem(str(self.api["version"]), self.clock.now().date())
        if found:
            problems.append(ChannelProblem(f"channel {self.channel_id}: {found[1]}", blocking=False))
        return problems + self._media_host_problems()

    def _media_host_problems(self) -> list[ChannelProblem]:
        """A plain `api.media_base_url` (before signed addresses) must answer; signed addresses
        (`media_urls:`) are checked for every platform that fetches by URL (scheduler/platforms/checkup.py)."""
        base = self.api.get("media_base_url")
        if not base:
            return []
        try:
            answer = self.session.get(base.rstrip("/") + "/", timeout=self.timeout, stream=True)
            answer.close()
        except requests.RequestException as exc:
            return [ChannelProblem(f"Instagram's media host {base} is not reachable ({type(exc).__name__}) — Instagram could "
                                   f"not fetch any photo or clip of channel {self.channel_id}; start or fix the web server")]
        if answer.status_code >= 500:
            return [ChannelProblem(f"Instagram's media host {base} answers HTTP {answer.status_code} — fix the web server",
                                   blocking=False)]
        return []

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        if not post.media:
            raise PermanentError(f"Instagram posts need a photo or a clip; post {post.post_id} has none — add media to the moment")
        media = post.media[0]
        data = {"caption": post.text}
        if media.kind == "clip":
            data.update(media_type="REELS", video_url=self.media_url(media), share_to_feed="true")
        else:
            data.update(image_url=self.media_url(media), alt_text=media.alt_text)
        container = ledger.once("container", lambda: self.json(self.request(
            "POST", self._graph(f"{self.account}/media"), what="the media container", data=data, headers=self._auth))["id"])
        if ledger.get("container:ready") is None:
            self.poll(lambda: self._container_ready(container), what=f"container {container}", ledger=ledger)
            ledger.record("container:ready", "1")
        body = self.json(self.request("POST", self._graph(f"{self.account}/media_publish"), creates=True, ledger=ledger,
                                      what="media_publish", data={"creation_id": container}, headers=self._auth))
        media_id = str(body["id"])
        return PublishResult(media_id, self._permalink(media_id), {"container_id": str(container)})

    def _container_ready(self, container: str) -> bool | None:
        body = self.json(self.request("GET", self._graph(container), what="container status", headers=self._auth,
                                      params={"fields": "status_code,status"}))
        code = body.get("status_code")
        if code in ("FINISHED", "PUBLISHED"):
            return True
        if code in ("ERROR", "EXPIRED"):
            raise PermanentError(
                f"Instagram could not prepare the media for {self.who} ({code}: {self.scrub(str(body.get('status', '')))}) — "
                "check that the media URL is public and the file meets Instagram's format limits"
            )
        return None

    def _permalink(self, media_id: str) -> str | None:
        try:
            body = self.json(self.request("GET", self._graph(media_id), what="permalink", headers=self._auth,
                                          params={"fields": "permalink"}))
        except Exception:  # noqa: BLE001 - the post is out; a missing link must not fail it
            return None
        return body.get("permalink")
