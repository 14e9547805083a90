#!/bin/sh
# Configure the packages bucket the way dsar expects it (AWS CLI v2):
#   infra/s3/apply.sh BUCKET PREFIX KMS_KEY_ID [--endpoint-url URL]
# PREFIX is the path of `[storage] url = "s3://BUCKET/PREFIX"` (without slashes).
set -eu
bucket=$1 prefix=$2 key=$3
shift 3
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|KMS_KEY_ID|$key|" "$here/encryption.json" > "$tmp/encryption.json"
sed "s|PREFIX|$prefix|" "$here/lifecycle.json" > "$tmp/lifecycle.json"
aws s3api put-public-access-block --bucket "$bucket" "$@" \
    --public-access-block-configuration "file://$here/public-access-block.json"
aws s3api put-bucket-encryption --bucket "$bucket" "$@" \
    --server-side-encryption-configuration "file://$tmp/encryption.json"
aws s3api put-bucket-lifecycle-configuration --bucket "$bucket" "$@" \
    --lifecycle-configuration "file://$tmp/lifecycle.json"
