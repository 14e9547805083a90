"""infra/s3's bucket settings, applied to moto's server as the AWS CLI would apply them, and read back."""

import json
from pathlib import Path

from flows.config import Delivery

S3 = Path(__file__).resolve().parents[2] / "infra" / "s3"


def document(name: str, **values: str) -> dict:
    text = (S3 / name).read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


def test_the_bucket_settings_apply_and_say_what_dsar_relies_on(s3_bucket):
    client, bucket = s3_bucket.client, s3_bucket.name
    client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=document("public-access-block.json"))
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=document(
        "encryption.json", KMS_KEY_ID=s3_bucket.kms_key_id))
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=document(
        "lifecycle.json", PREFIX="dsar"))

    blocked = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(blocked.values()) and len(blocked) == 4
    [rule] = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    default = rule["ApplyServerSideEncryptionByDefault"]
    assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": s3_bucket.kms_key_id}
    rules = {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    # A failed abort (a crash mid-upload) leaves parts behind: the bucket clears them.
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    # A safety net behind the sweeper: never sooner than the longest link a config may set.
    expiry = rules["packages-outlive-no-link"]
    assert expiry["Filter"]["Prefix"] == "dsar/"
    longest_link_hours = next(m.le for m in Delivery.model_fields["link_hours"].metadata if hasattr(m, "le"))
    assert expiry["Expiration"]["Days"] * 24 > longest_link_hours


def test_apply_sh_fills_in_every_placeholder():
    script = (S3 / "apply.sh").read_text(encoding="utf-8")
    placeholders = {"KMS_KEY_ID", "PREFIX"}
    for name in ("encryption.json", "lifecycle.json", "public-access-block.json"):
        text = (S3 / name).read_text(encoding="utf-8")
        for placeholder in placeholders & set(text.replace('"', " ").replace("/", " ").split()):
            assert f"s|{placeholder}|" in script, f"{name}: apply.sh leaves {placeholder} in place"
