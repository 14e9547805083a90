"""infra/aws/bootstrap.py against moto's server, and what it made read back with boto3.

Runs that succeed call its main() in this process (a second each as a subprocess, mostly importing boto3);
the failures run it as the operator does, to see the exit code and that stderr holds one line and no traceback.
"""

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import free_port

BOOTSTRAP = Path(__file__).resolve().parents[2] / "infra" / "aws" / "bootstrap.py"
REGION = "eu-north-1"
SECRET = "wJalrXUtnFEMI-not-a-real-secret"
_names = itertools.count(1)
_spec = importlib.util.spec_from_file_location("infra_aws_bootstrap", BOOTSTRAP)
assert _spec is not None and _spec.loader is not None
bootstrap = sys.modules["infra_aws_bootstrap"] = importlib.util.module_from_spec(_spec)  # dataclasses look it up
_spec.loader.exec_module(bootstrap)


@pytest.fixture
def aws(moto_endpoint, aws_env, monkeypatch, capsys):
    """Fresh names for one test on the session's moto server, and boto3 clients to inspect what a run made."""
    import boto3

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    n = f"{next(_names)}-{os.getpid()}"

    class Aws:
        endpoint = moto_endpoint
        packages, audit, alias = f"dsar-packages-{n}", f"dsar-audit-{n}", f"alias/dsar-packages-{n}"
        s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
        kms = boto3.client("kms", endpoint_url=moto_endpoint, region_name=REGION)

        def argv(self, *extra: str, endpoint: str = moto_endpoint, packages: str = "") -> list[str]:
            return ["--region", REGION, "--package-bucket", packages or self.packages, "--audit-bucket", self.audit,
                    "--kms-alias", self.alias, "--endpoint-url", endpoint, *extra]

        def run(self, *extra: str) -> str:
            """What a successful run prints."""
            assert bootstrap.main(self.argv(*extra)) == 0, capsys.readouterr().err
            return capsys.readouterr().out

        def run_json(self, *extra: str) -> dict:
            return json.loads(self.run("--json", *extra))

        def fail(self, *extra: str, **where: str) -> subprocess.CompletedProcess:
            """A run as the operator starts it, expected to fail."""
            command = [sys.executable, str(BOOTSTRAP), *self.argv(*extra, **where)]
            return subprocess.run(command, capture_output=True, text=True, timeout=120)

    return Aws()


def outcomes(report: dict) -> dict[tuple[str, str], str]:
    return {(step["resource"], step["setting"].split(" ")[0]): step["outcome"] for step in report["steps"]}


def test_a_first_run_creates_everything_and_aws_says_so(aws):
    report = aws.run_json("--retention-days", "400", "--prefix", "dsar")

    assert report["changed"] and "found" not in outcomes(report).values()
    key = aws.kms.describe_key(KeyId=aws.alias)["KeyMetadata"]
    assert report["kms_key_arn"] == key["Arn"] and key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert aws.kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert [a["AliasName"] for a in aws.kms.list_aliases(KeyId=key["KeyId"])["Aliases"]] == [aws.alias]

    for bucket in (aws.packages, aws.audit):
        assert aws.s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        blocked = aws.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert blocked == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                           "RestrictPublicBuckets": True}

    [rule] = aws.s3.get_bucket_encryption(Bucket=aws.packages)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}
    assert rule["BucketKeyEnabled"] is True
    rules = {r["ID"]: r for r in aws.s3.get_bucket_lifecycle_configuration(Bucket=aws.packages)["Rules"]}
    packages = rules["packages-outlive-no-link"]
    assert packages["Filter"]["Prefix"] == "dsar/" and packages["Expiration"]["Days"] == 31
    # Versioned: the sweeper's delete leaves the package as a noncurrent version, gone a day later.
    assert packages["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert rules["drop-lone-delete-markers"]["Expiration"]["ExpiredObjectDeleteMarker"] is True
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1

    lock = aws.s3.get_object_lock_configuration(Bucket=aws.audit)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert lock["Rule"]["DefaultRetention"]["Days"] == 400
    with pytest.raises(aws.s3.exceptions.ClientError, match="ObjectLockConfigurationNotFound"):
        aws.s3.get_object_lock_configuration(Bucket=aws.packages)  # packages must stay deletable


def test_a_second_run_changes_nothing_and_keeps_the_key(aws):
    first = aws.run_json("--package-expiry-days", "45")
    second = aws.run("--package-expiry-days", "45")

    lines = second.splitlines()
    assert lines[-1] == "nothing changed"
    assert all(line.startswith("found ") for line in lines[:-1]) and len(lines) - 1 == len(first["steps"])
    assert f"key {first['kms_key_arn']}" in second
    third = aws.run_json("--package-expiry-days", "45")
    assert not third["changed"] and third["kms_key_arn"] == first["kms_key_arn"]
    assert aws.kms.describe_key(KeyId=aws.alias)["KeyMetadata"]["Arn"] == first["kms_key_arn"]
    keys_for_alias = [a for a in aws.kms.list_aliases()["Aliases"] if a["AliasName"] == aws.alias]
    assert len(keys_for_alias) == 1


def test_a_run_brings_drifted_settings_back_into_line(aws):
    aws.run_json()
    key_id = aws.kms.describe_key(KeyId=aws.alias)["KeyMetadata"]["KeyId"]
    aws.kms.disable_key_rotation(KeyId=key_id)
    aws.s3.put_bucket_versioning(Bucket=aws.packages, VersioningConfiguration={"Status": "Suspended"})
    aws.s3.delete_public_access_block(Bucket=aws.packages)
    aws.s3.delete_bucket_lifecycle(Bucket=aws.packages)

    report = aws.run_json("--retention-days", "30")

    assert outcomes(report) == {
        (aws.alias, "key"): "found", (aws.alias, "rotation"): "changed",
        (aws.packages, "bucket"): "found", (aws.packages, "versioning"): "changed",
        (aws.packages, "public-access-block"): "created", (aws.packages, "encryption"): "found",
        (aws.packages, "lifecycle"): "created",
        (aws.audit, "bucket"): "found", (aws.audit, "versioning"): "found",
        (aws.audit, "public-access-block"): "found", (aws.audit, "object-lock"): "changed",
    }
    assert aws.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    assert aws.s3.get_bucket_versioning(Bucket=aws.packages)["Status"] == "Enabled"
    assert all(aws.s3.get_public_access_block(Bucket=aws.packages)["PublicAccessBlockConfiguration"].values())
    assert len(aws.s3.get_bucket_lifecycle_configuration(Bucket=aws.packages)["Rules"]) == 3
    lock = aws.s3.get_object_lock_configuration(Bucket=aws.audit)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Days"] == 30
    assert not aws.run_json("--retention-days", "30")["changed"]


def test_an_audit_bucket_found_without_object_lock_gains_it(aws):
    aws.s3.create_bucket(Bucket=aws.audit, CreateBucketConfiguration={"LocationConstraint": REGION})

    report = aws.run_json()

    assert outcomes(report)[(aws.audit, "bucket")] == "found"
    assert aws.s3.get_bucket_versioning(Bucket=aws.audit)["Status"] == "Enabled"
    lock = aws.s3.get_object_lock_configuration(Bucket=aws.audit)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"


def test_what_the_audit_bucket_holds_cannot_be_deleted(aws):
    aws.run_json("--retention-days", "1")
    version = aws.s3.put_object(Bucket=aws.audit, Key="ledger/events.jsonl", Body=b"{}\n")["VersionId"]

    # COMPLIANCE: no one, not even with the governance bypass, deletes a version before its retention ends.
    for bypass in (False, True):
        with pytest.raises(aws.s3.exceptions.ClientError, match="AccessDenied"):
            aws.s3.delete_object(Bucket=aws.audit, Key="ledger/events.jsonl", VersionId=version,
                                 BypassGovernanceRetention=bypass)
    head = aws.s3.head_object(Bucket=aws.audit, Key="ledger/events.jsonl", VersionId=version)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert aws.s3.get_object(Bucket=aws.audit, Key="ledger/events.jsonl")["Body"].read() == b"{}\n"


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("bootstrap: ") and "Traceback" not in done.stderr
    assert SECRET not in done.stderr and "testing" not in done.stderr
    for word in words:
        assert word in line


def test_an_unreachable_endpoint_is_one_line_and_exit_1(aws):
    closed = f"http://127.0.0.1:{free_port()}"
    assert_one_line_error(aws.fail(endpoint=closed), aws.alias, "Could not connect", closed)


def test_a_refused_call_is_one_line_naming_the_resource_and_the_reason(aws):
    assert_one_line_error(aws.fail(packages="ab"), "bucket ab", "CreateBucket", "InvalidBucketName")


def test_a_bucket_in_another_region_is_refused(aws):
    import boto3

    elsewhere = boto3.client("s3", endpoint_url=aws.endpoint, region_name="eu-west-1")
    elsewhere.create_bucket(Bucket=aws.packages, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert_one_line_error(aws.fail(), aws.packages, "eu-west-1", "--region")


def test_a_package_expiry_before_the_last_link_dies_is_refused_before_any_call(aws):
    assert_one_line_error(aws.fail("--package-expiry-days", "7"), "--package-expiry-days 7", "31")
    with pytest.raises(aws.kms.exceptions.NotFoundException):
        aws.kms.describe_key(KeyId=aws.alias)
