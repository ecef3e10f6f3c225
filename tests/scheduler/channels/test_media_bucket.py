"""Media addresses from an S3-compatible bucket (README "Media addresses"): the file is copied
once and handed out as a presigned GET address, which the Threads emulator fetches over HTTP;
`check` writes a test object and fetches it back. The bucket is moto's S3 server on 127.0.0.1
(a referee written elsewhere), reached through boto3 exactly as a real bucket would be. moto does
not verify presigned signatures or their expiry: that part is S3's own and untested here.

Cost: moto's server starts in about 1-2 s (one per module)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
from botocore.config import Config
import pytest
import requests
from moto.server import ThreadedMotoServer

from scheduler.media_links import BucketLinks
from testkit.channels import make_media, make_post, rig

PHOTO = "aiko-tanaka/photo.ja.jpg"


@pytest.fixture(scope="module")
def s3():  # type: ignore[no-untyped-def]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="eu-west-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing", config=Config(signature_version="s3v4"))
    client.create_bucket(Bucket="campaign-media", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield client
    server.stop()


def test_a_bucket_serves_presigned_addresses_that_threads_fetches(s3, media_dir: Path) -> None:  # type: ignore[no-untyped-def]
    links = BucketLinks("s3://campaign-media/build", lifetime=3600, client=s3)
    url = links.url_for(PHOTO, media_dir / PHOTO)
    assert "X-Amz-Expires=3600" in url and "/build/aiko-tanaka/photo.ja.jpg" in url
    assert requests.get(url, timeout=5).content == (media_dir / PHOTO).read_bytes()
    again = links.url_for(PHOTO, media_dir / PHOTO)  # already there: signed again, not copied again
    assert again.split("?")[0] == url.split("?")[0]
    r = rig("threads")
    try:
        media = dataclasses.replace(make_media(media_dir, "photo"), public_url=url)
        r.publisher.publish(make_post("threads", media))
        [received] = r.emulator.published
        assert received["media_url"] == url and received["media"][0]["width"] == 320
    finally:
        r.publisher.close()
        r.emulator.stop()


def test_check_writes_and_fetches_a_test_object(s3) -> None:  # type: ignore[no-untyped-def]
    assert BucketLinks("s3://campaign-media", lifetime=600, client=s3).check("be-threads") == []
    [problem] = BucketLinks("s3://no-such-bucket", lifetime=600, client=s3).check("be-threads")
    assert "s3://no-such-bucket" in problem.message and "be-threads" in problem.message and problem.blocking
