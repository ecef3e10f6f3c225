"""Requests whose answers were recorded from the real @atproto/pds (pds_answers.json), and the
one function that runs them against any server: the real PDS (to check the recording still
holds, and to record it again) or the emulator (to hold it to the real server, also where
Node is missing).

Each answer is reduced to what a client relies on: HTTP status, error name, the top-level
keys of the body and a few values (sniffed blob type, JWT shape of tokens, DID document
endpoint type). Messages are kept for people, not compared.

Record again (after a PDS upgrade):  python -m testkit.pds_cases PORT
with a PDS started as the tests start it (pds_server.py):
PDS_ENABLE_DID_DOC_WITH_SESSION=true ../shared/peers/bluesky-pds/start_pds.sh PORT
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import requests
from PIL import Image

from testkit.pds_server import read_info

ANSWERS = Path(__file__).with_name("pds_answers.json")
COMPARED = ("status", "error", "keys", "values")
RKEY = "3lz2w2ntpqf2a"  # a valid TID, the same on both servers


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (253, 218, 36)).save(out, "JPEG", quality=70)
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 0, 0)).save(out, "PNG")
    return out.getvalue()


def _mp4() -> bytes:
    """A one-second H.264 clip (ffmpeg from imageio-ffmpeg)."""
    import subprocess
    import tempfile

    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "clip.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=c=yellow:s=64x64:d=1:r=10",
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                        str(target)], check=True, timeout=60)
        return target.read_bytes()


def _is_jwt(value: Any) -> bool:
    parts = str(value).split(".")
    return len(parts) == 3 and all(parts)


def _answer(response: requests.Response, *values: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    picked: dict[str, Any] = {}
    for path in values:
        node: Any = body
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else (node[int(part)] if isinstance(node, list) and node else None)
        picked[path] = node
    return {"status": response.status_code, "error": body.get("error"), "message": body.get("message"),
            "keys": sorted(body), "values": picked}


def run_cases(base_url: str, handle: str, password: str) -> dict[str, dict[str, Any]]:
    """Every case against the server at `base_url` with an existing account; {case: answer}."""
    with requests.Session() as http:
        return _run_cases(http, base_url, handle, password)


def _run_cases(http: requests.Session, base_url: str, handle: str, password: str) -> dict[str, dict[str, Any]]:
    xrpc = base_url.rstrip("/") + "/xrpc/"
    answers: dict[str, dict[str, Any]] = {}

    def call(name: str, method: str, nsid: str, *values: str, token: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = http.request(method, xrpc + nsid, headers=headers, timeout=20, **kwargs)
        answers[name] = _answer(response, *values)
        return response

    session = call("createSession", "POST", "com.atproto.server.createSession", "didDoc.service.0.type",
                   json={"identifier": handle, "password": password}).json()
    answers["createSession"]["values"].update(accessJwt_is_jwt=_is_jwt(session.get("accessJwt")),
                                              refreshJwt_is_jwt=_is_jwt(session.get("refreshJwt")))
    access, did = session["accessJwt"], session["did"]
    call("createSession wrong password", "POST", "com.atproto.server.createSession",
         json={"identifier": handle, "password": password + "-wrong"})
    call("getSession", "GET", "com.atproto.server.getSession", "didDoc.service.0.type", token=access)
    refreshed = call("refreshSession", "POST", "com.atproto.server.refreshSession", token=session["refreshJwt"]).json()
    answers["refreshSession"]["values"]["accessJwt_is_jwt"] = _is_jwt(refreshed.get("accessJwt"))
    access = refreshed.get("accessJwt", access)
    call("describeRepo", "GET", "com.atproto.repo.describeRepo", "didDoc.service.0.type", params={"repo": did})

    jpeg = call("uploadBlob jpeg declared */*", "POST", "com.atproto.repo.uploadBlob", "blob.mimeType", "blob.$type",
                token=access, data=_jpeg(), headers={"Content-Type": "*/*"}).json()["blob"]
    call("uploadBlob png declared octet-stream", "POST", "com.atproto.repo.uploadBlob", "blob.mimeType", token=access,
         data=_png(), headers={"Content-Type": "application/octet-stream"})
    call("uploadBlob mp4 declared */*", "POST", "com.atproto.repo.uploadBlob", "blob.mimeType", token=access,
         data=_mp4(), headers={"Content-Type": "*/*"})
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    text = "Ceci n’est pas une pipe 🇧🇪 #België"
    start = text.encode("utf-8").index("#België".encode("utf-8"))
    record = {"$type": "app.bsky.feed.post", "text": text, "langs": ["fr"], "createdAt": now,
              "facets": [{"index": {"byteStart": start, "byteEnd": start + len("#België".encode("utf-8"))},
                          "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "België"}]}],
              "embed": {"$type": "app.bsky.embed.images",
                        "images": [{"image": jpeg, "alt": "Een geel vlak", "aspectRatio": {"width": 40, "height": 30}}]}}
    create = {"repo": did, "collection": "app.bsky.feed.post", "rkey": RKEY, "record": record}
    call("createRecord", "POST", "com.atproto.repo.createRecord", "validationStatus", token=access, json=create)
    call("createRecord taken key", "POST", "com.atproto.repo.createRecord", token=access, json=create)
    call("createRecord invalid key", "POST", "com.atproto.repo.createRecord", token=access, json={**create, "rkey": "not a tid"})
    call("createRecord text over 300 graphemes", "POST", "com.atproto.repo.createRecord", token=access,
         json={**create, "rkey": "3lz2w2ntpqf2b", "record": {**record, "text": "é" * 301, "facets": []}})
    call("createRecord non-JWT bearer", "POST", "com.atproto.repo.createRecord", token="not-a-jwt",
         json={**create, "rkey": "3lz2w2ntpqf2c"})
    call("getRecord", "GET", "com.atproto.repo.getRecord", "value.embed.images.0.image.mimeType", "value.langs",
         params={"repo": did, "collection": "app.bsky.feed.post", "rkey": RKEY})
    call("getRecord missing", "GET", "com.atproto.repo.getRecord",
         params={"repo": did, "collection": "app.bsky.feed.post", "rkey": "3lz2w2ntpqf2z"})
    call("getRecord unknown repo", "GET", "com.atproto.repo.getRecord",
         params={"repo": "did:plc:" + "a" * 24, "collection": "app.bsky.feed.post", "rkey": RKEY})
    listed = call("listRecords", "GET", "com.atproto.repo.listRecords", params={"repo": did, "collection": "app.bsky.feed.post"})
    answers["listRecords"]["values"]["rkeys"] = [r["uri"].rsplit("/", 1)[-1] for r in listed.json().get("records", [])]

    real_now = int(time.time())
    for name, exp in (("getServiceAuth exp in 30 min", real_now + 1800), ("getServiceAuth exp in 2 h", real_now + 7200)):
        response = call(name, "GET", "com.atproto.server.getServiceAuth", token=access,
                        params={"aud": "did:web:localhost", "lxm": "com.atproto.repo.uploadBlob", "exp": str(exp)})
        if response.ok:
            answers[name]["values"]["token_is_jwt"] = _is_jwt(response.json().get("token"))
    call("uploadVideo without a video service", "POST", "app.bsky.video.uploadVideo", token=access,
         params={"did": did, "name": "clip.mp4"}, data=b"\x00\x00\x00\x18ftypmp42", headers={"Content-Type": "video/mp4"})
    return answers


def differences(recorded: dict[str, dict[str, Any]], observed: dict[str, dict[str, Any]]) -> list[str]:
    """Where `observed` differs from the recording, one line per case and field."""
    lines = []
    for case, expected in recorded.items():
        got = observed.get(case)
        if got is None:
            lines.append(f"{case}: not run")
            continue
        for field in COMPARED:
            if expected[field] != got[field]:
                lines.append(f"{case}: {field} is {got[field]!r}, the real PDS answered {expected[field]!r}")
    return lines


def record(port: int, info: Callable[[int], dict[str, str]] | None = None) -> None:

    env = (info or read_info)(port)
    answers = run_cases(env["PDS_BASE_URL"], env["PDS_HANDLE"], env["PDS_PASSWORD"])
    ANSWERS.write_text(json.dumps({"server": "@atproto/pds 0.5.35 (../shared/peers/bluesky-pds)",
                                   "recorded": time.strftime("%Y-%m-%d"), "answers": answers},
                                  ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {len(answers)} answers in {ANSWERS}")


def recorded() -> dict[str, dict[str, Any]]:
    return json.loads(ANSWERS.read_text(encoding="utf-8"))["answers"]


if __name__ == "__main__":
    record(int(sys.argv[1]) if len(sys.argv) > 1 else 2583)
