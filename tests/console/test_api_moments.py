"""`/api/v1/moments` as a script uses it (httpx against uvicorn): ETag and If-Match, 412, 422
with `validate`'s lines, 403 outside an editor's channels, 401; and the same changes made
through the API and through the console's forms give the same calendar.yaml, byte for byte."""

from __future__ import annotations

import httpx
import pytest

from testkit.console import edit_rig  # noqa: F401 (the `rig` fixture: a copy of the sample calendar in git)
from testkit.console import PASSWORDS, START, form_fields, git, login, make_edit_rig

pytestmark = pytest.mark.slow  # each test saves and re-plans the sample calendar in git, through uvicorn (~4-10 s)

API = "/api/v1"
OSAKA = {"id": "trade-mission-osaka-2027", "title": "Belgian trade mission to Osaka",
         "titles": {"ja": "大阪へのベルギー貿易ミッション"}, "start": "2027-09-13", "end": "2027-09-16",
         "pillar": "innovation", "channels": ["embassy-tokyo", "be-x"], "languages": ["ja", "en"],
         "testimonials": ["aiko-tanaka"], "hashtags": ["BelgiumJapan", "EmbracingOpenness"],
         "link": "https://www.belgium.be/en/embracing-openness"}
QUOTE_JA = "imecでの研究で、ベルギーの開かれた協力を肌で感じました。"



@pytest.fixture
def http(server, rig):  # type: ignore[no-untyped-def]
    from console.api.tokens import Tokens

    tokens = Tokens(rig.store.engine)
    clients: list[httpx.Client] = []

    def make(name: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {tokens.issue(name, by='test', now=START)}"} if name else {}
        client = httpx.Client(base_url=server + API, headers=headers, timeout=60)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_read_add_and_change_moments_with_etags(rig, http) -> None:  # type: ignore[no-untyped-def]
    ada = http("ada")
    listed = ada.get("/moments").json()
    assert [m["id"] for m in listed["moments"]][:2] == ["davos-2027", "mission-japan-2027"]
    one = ada.get("/moments/mission-japan-2027")
    assert one.headers["ETag"] == one.json()["etag"] and one.json()["link"]["ja"].startswith("https://japan.")
    assert problem(http(None).get("/moments"), 401)

    would = ada.post("/moments", params={"dry_run": "true"}, json=OSAKA)
    assert would.status_code == 200 and would.json()["saved"] is False
    assert git(rig.calendar_path.parent, "status", "--porcelain", "calendar.yaml") == ""
    added = ada.post("/moments", json=OSAKA)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["impact"]["sentence"] == "adds 3 posts" and len(body["impact"]["added"]) == 3
    assert body["commit"] and git(rig.calendar_path.parent, "log", "-1", "--format=%an|%s") == \
        "ada|Add moment trade-mission-osaka-2027\n"
    assert added.headers["ETag"] == body["moment"]["etag"]

    stale = one.headers["ETag"]
    first = ada.patch("/moments/mission-japan-2027", json={"title": "Belgian economic mission to Japan 2027"},
                      headers={"If-Match": stale})
    assert first.status_code == 200, first.text
    assert git(rig.calendar_path.parent, "show", "--numstat", "--format=", "HEAD").startswith("1\t1\t")
    again = ada.patch("/moments/mission-japan-2027", json={"title": "Another title"}, headers={"If-Match": stale})
    assert problem(again, 412)["detail"].startswith("it changed since you read it")
    assert "Another title" not in rig.calendar_path.read_text(encoding="utf-8")
    assert problem(ada.patch("/moments/nope", json={"title": "x"}), 404)


def test_invalid_input_is_422_with_validates_lines_and_other_channels_are_403(rig, http) -> None:  # type: ignore[no-untyped-def]
    ada = http("ada")
    before = rig.calendar_path.read_bytes()
    bad = problem(ada.post("/moments", json={**OSAKA, "channels": ["embassy-tokio"]}), 422)
    lines = [e for e in bad["errors"] if "embassy-tokio" in e["message"]]
    assert lines and all(isinstance(e["line"], int) and e["line"] > 300 for e in lines)
    assert rig.calendar_path.read_bytes() == before

    kenji = http("kenji")
    refused = problem(kenji.post("/moments", json=OSAKA), 403)
    assert "names channel be-x" in refused["detail"]
    assert problem(kenji.patch("/moments/europe-day", json={"title": "x"}), 403)
    assert problem(http("tomo").post("/moments", json={**OSAKA, "channels": ["embassy-tokyo"]}), 403)  # approvers approve
    mine = kenji.post("/moments", json={**OSAKA, "channels": ["embassy-tokyo"]})
    assert mine.status_code == 201, mine.text


def test_the_openapi_document_lists_the_moments_endpoints(http) -> None:  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate

    document = http(None).get("/openapi.json").json()
    validate(document)
    assert {"/moments", "/moments/{moment_id}", "/testimonials/{testimonial_id}/quotes"} <= set(document["paths"])
    assert {"get", "patch"} <= set(document["paths"]["/moments/{moment_id}"])


def test_the_same_changes_through_the_api_and_the_console_give_the_same_file(rig, http, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The Done-when's changes: a manager adds the Osaka mission, an editor of embassy-tokyo
    rewrites the Japanese quote. Through the API here; through the forms on a second copy."""
    ada, kenji = http("ada"), http("kenji")
    assert ada.post("/moments", json=OSAKA).status_code == 201
    aiko = kenji.patch("/testimonials/aiko-tanaka/quotes", json={"quote": {"ja": QUOTE_JA}})
    assert aiko.status_code == 200, aiko.text
    through_api = rig.calendar_path.read_bytes()

    from starlette.testclient import TestClient

    from console.app import ConsoleConfig

    from console.server import create_app

    other = make_edit_rig(tmp_path / "forms")
    app = create_app(ConsoleConfig(db=other.url, calendar=other.calendar_path, build=other.build, inbox=other.inbox),
                     clock=other.clock, store=other.store)
    try:
        for name in ("ada", "kenji"):
            with TestClient(app, base_url="http://127.0.0.1") as browser:
                assert login(browser, name, PASSWORDS[name]).status_code == 303
                if name == "ada":
                    url, changes = "/edit/moments/new", {
                        "id": [OSAKA["id"]], "title": [OSAKA["title"]], "titles.ja": [OSAKA["titles"]["ja"]],
                        "start": [OSAKA["start"]], "end": [OSAKA["end"]], "pillar": [OSAKA["pillar"]],
                        "channels": OSAKA["channels"], "languages": OSAKA["languages"],
                        "testimonials": OSAKA["testimonials"], "hashtags": [" ".join(OSAKA["hashtags"])],
                        "link": [OSAKA["link"]]}
                else:
                    url, changes = "/edit/testimonials/aiko-tanaka", {"quote.ja": [QUOTE_JA]}
                data: dict[str, list[str]] = {}
                for key, value in form_fields(browser.get(url).text):
                    data.setdefault(key, []).append(value)
                data.update(changes)
                data["confirm"] = ["1"]
                saved = browser.post(url, data=data, headers={"origin": "http://127.0.0.1"}, follow_redirects=False)
                assert saved.status_code == 303, saved.text[:2000]
    finally:
        other.store.close()
    assert other.calendar_path.read_bytes() == through_api
