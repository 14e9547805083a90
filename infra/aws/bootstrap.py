"""Create, or find and bring into line, the AWS resources dsar stores packages and ledger copies in.

    python infra/aws/bootstrap.py --region R --package-bucket B --audit-bucket A
        [--kms-alias alias/dsar-packages] [--prefix P] [--package-expiry-days N] [--retention-days N]
        [--endpoint-url URL] [--json]

- a symmetric KMS key, found again by its alias, with yearly rotation on;
- the package bucket: versioning, all four public access blocks, SSE-KMS under that key by default (bucket key on),
  and the lifecycle rules of infra/s3/lifecycle.json with packages expiring after N days;
- the audit bucket: Object Lock with a COMPLIANCE default retention of N days, versioning, public access blocks.

The bucket settings are infra/s3's JSON documents, the same that infra/s3/apply.sh applies. Each run reads what
is there and writes only what differs, so a second run changes nothing and says so; a setting that differs is
replaced whole (other lifecycle rules on the package bucket go). Credentials come from boto3's
usual chain; an AWS error ends the run with one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

S3_DOCUMENTS = Path(__file__).resolve().parents[1] / "s3"
DEFAULT_ALIAS = "alias/dsar-packages"
# Three years: the general limitation period for claims in Finland (Act 728/2003, section 4), the time an
# auditor may be asked to show what happened. The ledger holds ids, counts and hashes only.
DEFAULT_RETENTION_DAYS = 3 * 365
MAX_RETENTION_DAYS = 36500  # S3's limit for a default retention
# What S3 answers when a bucket, or a setting a bucket never had, is not there.
_MISSING = {"404", "NoSuchBucket", "NoSuchPublicAccessBlockConfiguration", "NoSuchLifecycleConfiguration",
            "ServerSideEncryptionConfigurationNotFoundError", "ObjectLockConfigurationNotFoundError"}


class BootstrapError(Exception):
    """Something the operator must fix; the message is one line that says what."""


@dataclass(frozen=True)
class Step:
    """What one run did to one resource or setting: `created`, `changed` (brought into line) or `found`."""

    resource: str
    setting: str
    outcome: str

    def line(self) -> str:
        return f"{self.outcome:8} {self.resource} {self.setting}"


@dataclass(frozen=True)
class Plan:
    region: str
    package_bucket: str
    audit_bucket: str
    kms_alias: str = DEFAULT_ALIAS
    prefix: str = ""
    package_expiry_days: int | None = None  # None: lifecycle.json's own, which is also the least allowed
    retention_days: int = DEFAULT_RETENTION_DAYS


def document(name: str) -> Any:
    return json.loads((S3_DOCUMENTS / name).read_text(encoding="utf-8"))


def lifecycle(prefix: str, expiry_days: int | None) -> dict[str, Any]:
    """lifecycle.json for `prefix`, packages expiring after `expiry_days` (never sooner than the document says)."""
    text = (S3_DOCUMENTS / "lifecycle.json").read_text(encoding="utf-8")
    config: dict[str, Any] = json.loads(text.replace("PREFIX/", f"{prefix}/" if prefix else ""))
    for rule in config["Rules"]:
        floor = rule.get("Expiration", {}).get("Days")
        if floor is None or expiry_days is None:
            continue
        if expiry_days < floor:
            # The rule is a safety net behind `dsar packages expire`: it must not delete a package a link still serves.
            raise BootstrapError(f"--package-expiry-days {expiry_days} is below {floor}: a package must outlive "
                                 "its longest download link (30 days)")
        rule["Expiration"]["Days"] = expiry_days
    return config


def matches(actual: Any, desired: Any) -> bool:
    """Whether `actual` (as AWS reports it) says at least what `desired` says; lists match in any order.

    AWS adds fields of its own (moto a `Years: 0` beside `Days`), so extra keys in `actual` are not a difference.
    """
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(k in actual and matches(actual[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (isinstance(actual, list) and len(actual) == len(desired)
                and all(any(matches(a, d) for a in actual) for d in desired))
    return bool(actual == desired)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _read(call: Callable[[], Any]) -> Any:
    """What `call` reads, or None where AWS says there is nothing yet."""
    try:
        return call()
    except ClientError as exc:
        if _code(exc) in _MISSING:
            return None
        raise


@contextmanager
def _about(resource: str) -> Iterator[None]:
    """AWS errors as one line that names the resource, the refused operation and AWS's reason."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        reason = " ".join(str(error.get("Message") or "").split())
        raise BootstrapError(f"{resource}: {exc.operation_name} refused: {_code(exc)}"
                             + (f" ({reason})" if reason else "")) from None
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, ...
        raise BootstrapError(f"{resource}: {' '.join(str(exc).split())}") from None


class Bootstrap:
    """One run: each `ensure_*` reads, compares, writes only what differs and records a Step."""

    def __init__(self, plan: Plan, session: Any, endpoint_url: str | None) -> None:
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
        self.plan = plan
        self.kms = session.client("kms", region_name=plan.region, endpoint_url=endpoint_url, config=config)
        self.s3 = session.client("s3", region_name=plan.region, endpoint_url=endpoint_url, config=config)
        self.steps: list[Step] = []
        self.created: set[str] = set()  # buckets this run made: what they have, it made too

    def run(self) -> str:
        """Bring everything into line; the KMS key's ARN."""
        plan = self.plan
        packages_lifecycle = lifecycle(plan.prefix, plan.package_expiry_days)  # a bad value stops before any call
        key_arn = self.ensure_key()
        encryption = json.loads(json.dumps(document("encryption.json")).replace("KMS_KEY_ID", key_arn))

        self.ensure_bucket(plan.package_bucket, object_lock=False)
        self.ensure_versioning(plan.package_bucket)
        self.ensure_public_access_block(plan.package_bucket)
        self.ensure(plan.package_bucket, "encryption", encryption,
                    lambda b: self.s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"],
                    lambda b, c: self.s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=c))
        self.ensure(plan.package_bucket, "lifecycle", packages_lifecycle,
                    lambda b: {"Rules": self.s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]},
                    lambda b, c: self.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=c))

        self.ensure_bucket(plan.audit_bucket, object_lock=True)
        self.ensure_versioning(plan.audit_bucket)  # Object Lock needs it, on a bucket found without the lock too
        self.ensure_public_access_block(plan.audit_bucket)
        retention = {"ObjectLockEnabled": "Enabled",
                     "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": plan.retention_days}}}
        self.ensure(plan.audit_bucket, "object-lock", retention,
                    lambda b: self.s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"],
                    lambda b, c: self.s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=c))
        return key_arn

    def ensure_key(self) -> str:
        """The key behind the alias, made (with the alias) when there is none; rotation on either way."""
        alias = self.plan.kms_alias
        with _about(f"kms key {alias}"):
            try:
                key = self.kms.describe_key(KeyId=alias)["KeyMetadata"]
                outcome = "found"
            except ClientError as exc:
                if _code(exc) != "NotFoundException":
                    raise
                key = self.kms.create_key(Description="dsar: SSE-KMS for subject-access packages",
                                          KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
                # A crash before the alias exists leaves a key no run finds again: rerun makes another (and the
                # orphan, shown by `aws kms list-keys` without an alias, can be scheduled for deletion).
                self.kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
                outcome = "created"
            self._check_key(alias, key)
            self.steps.append(Step(alias, f"key {key['Arn']}", outcome))
            rotating = self.kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
            if not rotating:
                self.kms.enable_key_rotation(KeyId=key["KeyId"])
            self.steps.append(Step(alias, "rotation", "found" if rotating else "changed" if outcome == "found"
                                   else "created"))
        return str(key["Arn"])

    @staticmethod
    def _check_key(alias: str, key: dict[str, Any]) -> None:
        """A found key must be one SSE-KMS can use and one we may manage: an operator's call, not ours, to change."""
        if key.get("KeyManager", "CUSTOMER") != "CUSTOMER":
            raise BootstrapError(f"{alias} names an AWS managed key: choose another --kms-alias")
        if key.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or \
                key.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
            raise BootstrapError(f"{alias} names a key S3 cannot encrypt with (not a symmetric ENCRYPT_DECRYPT key): "
                                 "choose another --kms-alias")
        if key.get("KeyState", "Enabled") != "Enabled":
            raise BootstrapError(f"{alias} names a key in state {key['KeyState']}: enable it or choose another "
                                 "--kms-alias")

    def ensure_bucket(self, bucket: str, *, object_lock: bool) -> None:
        region = self.plan.region
        with _about(f"bucket {bucket}"):
            exists = True
            try:
                headers = self.s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
            except ClientError as exc:
                if _code(exc) in ("403", "AccessDenied"):
                    raise BootstrapError(f"bucket {bucket} exists and this account may not use it: choose another "
                                         "name") from None
                exists = _code(exc) not in _MISSING
                # Asked in the wrong region (with --endpoint-url botocore does not follow), S3 says where it is.
                headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                if exists and "x-amz-bucket-region" not in headers:
                    raise
            if not exists:
                options: dict[str, Any] = {"ObjectLockEnabledForBucket": True} if object_lock else {}
                if region != "us-east-1":  # S3 refuses us-east-1 as an explicit location
                    options["CreateBucketConfiguration"] = {"LocationConstraint": region}
                self.s3.create_bucket(Bucket=bucket, **options)
                self.created.add(bucket)
                self.steps.append(Step(bucket, "bucket", "created"))
                return
            found_in = headers.get("x-amz-bucket-region", region)  # S3-compatible services may not say
            if found_in != region:
                raise BootstrapError(f"bucket {bucket} is in {found_in}, not {region}: use --region {found_in} "
                                     "or another name")
            self.steps.append(Step(bucket, "bucket", "found"))

    def ensure_versioning(self, bucket: str) -> None:
        self.ensure(bucket, "versioning", {"Status": "Enabled"},
                    self._versioning,
                    lambda b, c: self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration=c))

    def _versioning(self, bucket: str) -> dict[str, str] | None:
        status = self.s3.get_bucket_versioning(Bucket=bucket).get("Status")  # none on a bucket that never had it
        return {"Status": status} if status else None

    def ensure_public_access_block(self, bucket: str) -> None:
        self.ensure(bucket, "public-access-block", document("public-access-block.json"),
                    lambda b: self.s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
                    lambda b, c: self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=c))

    def ensure(self, bucket: str, setting: str, desired: Any, get: Callable[[str], Any],
               put: Callable[[str, Any], Any]) -> None:
        """Put `desired` unless `get` already reports it."""
        with _about(f"bucket {bucket} {setting}"):
            actual = _read(lambda: get(bucket))
            in_line = actual is not None and matches(actual, desired)
            if not in_line:
                put(bucket, desired)
            new = bucket in self.created or actual is None
            self.steps.append(Step(bucket, setting, "created" if new else "found" if in_line else "changed"))


def arguments(argv: list[str] | None) -> tuple[Plan, str | None, bool]:
    parser = argparse.ArgumentParser(prog="infra/aws/bootstrap.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", required=True)
    parser.add_argument("--package-bucket", required=True)
    parser.add_argument("--audit-bucket", required=True)
    parser.add_argument("--kms-alias", default=DEFAULT_ALIAS, help=f"default {DEFAULT_ALIAS}")
    parser.add_argument("--prefix", default="", help="the PREFIX of [storage] url = s3://BUCKET/PREFIX; "
                        "default: the whole bucket")
    parser.add_argument("--package-expiry-days", type=int, help="default and least: infra/s3/lifecycle.json's")
    parser.add_argument("--retention-days", type=int, default=DEFAULT_RETENTION_DAYS,
                        help=f"Object Lock COMPLIANCE retention of the audit bucket, default {DEFAULT_RETENTION_DAYS}")
    parser.add_argument("--endpoint-url", help="an S3/KMS-compatible endpoint instead of AWS's")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    args = parser.parse_args(argv)
    if not 1 <= args.retention_days <= MAX_RETENTION_DAYS:
        parser.error(f"--retention-days must be between 1 and {MAX_RETENTION_DAYS}")
    if not args.kms_alias.startswith("alias/") or args.kms_alias.startswith("alias/aws/"):
        parser.error("--kms-alias must start with alias/ (and not alias/aws/, which AWS keeps for itself)")
    if args.package_bucket == args.audit_bucket:
        parser.error("--package-bucket and --audit-bucket must differ: only the audit bucket keeps what it holds")
    plan = Plan(region=args.region, package_bucket=args.package_bucket, audit_bucket=args.audit_bucket,
                kms_alias=args.kms_alias, prefix=args.prefix.strip("/"),
                package_expiry_days=args.package_expiry_days, retention_days=args.retention_days)
    return plan, args.endpoint_url, args.json


def main(argv: list[str] | None = None) -> int:
    plan, endpoint_url, as_json = arguments(argv)
    try:
        with _about("aws"):
            try:
                run = Bootstrap(plan, boto3.session.Session(), endpoint_url)
            except ValueError as exc:  # botocore's word on a malformed --endpoint-url or --region
                raise BootstrapError(" ".join(str(exc).split())) from None
        key_arn = run.run()
    except BootstrapError as exc:
        print(f"bootstrap: {exc}", file=sys.stderr)
        return 1
    changed = any(step.outcome != "found" for step in run.steps)
    if as_json:
        print(json.dumps({"region": plan.region, "kms_key_arn": key_arn, "package_bucket": plan.package_bucket,
                          "audit_bucket": plan.audit_bucket, "changed": changed,
                          "steps": [asdict(step) for step in run.steps]}))
    else:
        for step in run.steps:
            print(step.line())
        if not changed:
            print("nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
