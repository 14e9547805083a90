"""A whole request through Prefect with its package stored in S3 (moto's server over HTTP).

moto enforces neither presigned-URL expiry, nor lifecycle rules, nor the state
of the KMS key; our signed link and the expiry sweeper enforce a package's
lifetime, so this test checks only what we store and how.
"""

import hashlib
import io
import json
import re
import zipfile

import httpx
import pytest

from tests.exports.age_cli import age_decrypt

pytestmark = pytest.mark.e2e


def test_a_request_with_s3_storage_stores_a_package_that_age_opens(prefect_api, s3_bucket, tmp_path, monkeypatch):
    from flows import stages
    from flows.demo.mailchimp_server import serve_mailchimp
    from flows.demo.run import prepare_demo, verify_by_outbox, write_demo_config
    from flows.fulfil import run_request
    from flows.notify import Outbox
    from flows.portal.app import make_app
    from flows.portal.server import serving
    from flows.runtime import open_runtime

    demo, secrets = prepare_demo(tmp_path / "demo")
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        path = write_demo_config(demo, mailchimp.base_url)
        s3 = (f'url = "s3://{s3_bucket.name}/dsar"\nkms_key_id = "{s3_bucket.kms_key_id}"\n'
              f'endpoint_url = "{s3_bucket.endpoint_url}"\nregion = "eu-north-1"')
        config = path.read_text(encoding="utf-8")
        assert 'url = "file://packages"' in config
        path.write_text(config.replace('url = "file://packages"', s3), encoding="utf-8")
        rt = open_runtime(path)
        request = stages.register(rt, demo.subject_email, "fi", name=demo.subject_name)
        verify_by_outbox(rt, request.id)
        monkeypatch.setenv("DSAR_CONFIG", str(path))
        run_request(request.id)

    assert rt.store.get(request.id).status == "delivered"
    stored = rt.store.stage_done(request.id, "store")
    assert stored is not None
    key = f"dsar/{stored['object_key']}"
    assert rt.store.get(request.id).package_ref == f"s3://{s3_bucket.name}/{key}"
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith(s3_bucket.kms_key_id)
    tags = s3_bucket.client.get_object_tagging(Bucket=s3_bucket.name, Key=key)["TagSet"]
    tagged = {t["Key"]: t["Value"] for t in tags}
    assert tagged["request_id"] == request.id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", tagged["expires_at"])
    # No sealed copy anywhere on the worker's disk, and no upload left unfinished.
    assert not list(demo.workdir.rglob("*.age"))
    assert not s3_bucket.client.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads")

    # The requester's side: the mailed link, through the portal's file route, redirects to a short-lived presigned URL.
    assert isinstance(rt.mailer, Outbox)
    link = re.search(r"http://\S+/download/\S+", rt.mailer.read(f"{request.id}-link"))
    assert link is not None
    with serving(make_app(rt, start=lambda request_id: None)) as base:
        token = link.group(0).split("/download/", 1)[1]
        answer = httpx.get(f"{base}/download/{token}/file")
    assert answer.status_code == 302 and answer.headers["cache-control"] == "no-store"
    assert answer.headers["location"].startswith(f"{s3_bucket.endpoint_url}/{s3_bucket.name}/{key}")
    assert [e.action for e in rt.ledger.events(request.id)].count("download") == 1
    sealed = httpx.get(answer.headers["location"])
    assert sealed.status_code == 200
    sealed_record = rt.store.stage_done(request.id, "store:sealed")
    assert sealed_record is not None and sealed_record["sha256"] == hashlib.sha256(sealed.content).hexdigest()
    (tmp_path / "package.zip.age").write_bytes(sealed.content)
    passphrase = rt.mailer.read(f"{request.id}-passphrase").strip().splitlines()[-1].strip()
    package = zipfile.ZipFile(io.BytesIO(age_decrypt(tmp_path / "package.zip.age", passphrase)))
    index = json.loads(package.read(f"{request.id}/index.json"))
    assert index["request_id"] == request.id
    assert index["record_counts"]["customers"]["customer"] == 1
