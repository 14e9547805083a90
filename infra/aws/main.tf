# The same resources as bootstrap.py, for teams that keep their AWS in Terraform. Kept in step with
# bootstrap.py by hand; the bucket settings come from infra/s3's JSON documents, as bootstrap.py's do.
#   terraform apply -var region=eu-north-1 -var package_bucket=B -var audit_bucket=A

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "region" { type = string }
variable "package_bucket" { type = string }
variable "audit_bucket" { type = string }

variable "kms_alias" {
  type    = string
  default = "alias/dsar-packages"
}

variable "prefix" {
  description = "The PREFIX of [storage] url = s3://BUCKET/PREFIX; empty for the whole bucket."
  type        = string
  default     = ""
}

variable "package_expiry_days" {
  description = "Packages expire after this many days; null for lifecycle.json's own, which is also the least."
  type        = number
  default     = null
}

variable "retention_days" {
  description = "Object Lock COMPLIANCE retention of the audit bucket: nobody deletes a version sooner."
  type        = number
  default     = 1095
}

provider "aws" {
  region = var.region
}

locals {
  s3_documents  = "${path.module}/../s3"
  public_access = jsondecode(file("${local.s3_documents}/public-access-block.json"))
  encryption    = jsondecode(file("${local.s3_documents}/encryption.json")).Rules[0]
  lifecycle_rules = jsondecode(replace(file("${local.s3_documents}/lifecycle.json"), "PREFIX/",
  var.prefix == "" ? "" : "${trim(var.prefix, "/")}/")).Rules
  expiry_floor = one([for rule in local.lifecycle_rules : rule.Expiration.Days if can(rule.Expiration.Days)])
  expiry_days  = coalesce(var.package_expiry_days, local.expiry_floor)
  buckets      = { packages = aws_s3_bucket.packages.id, audit = aws_s3_bucket.audit.id }
}

resource "aws_kms_key" "packages" {
  description              = "dsar: SSE-KMS for subject-access packages"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
}

resource "aws_kms_alias" "packages" {
  name          = var.kms_alias
  target_key_id = aws_kms_key.packages.key_id
}

resource "aws_s3_bucket" "packages" {
  bucket = var.package_bucket
}

resource "aws_s3_bucket" "audit" {
  bucket              = var.audit_bucket
  object_lock_enabled = true
}

resource "aws_s3_bucket_versioning" "both" {
  for_each = local.buckets
  bucket   = each.value
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "both" {
  for_each                = local.buckets
  bucket                  = each.value
  block_public_acls       = local.public_access.BlockPublicAcls
  ignore_public_acls      = local.public_access.IgnorePublicAcls
  block_public_policy     = local.public_access.BlockPublicPolicy
  restrict_public_buckets = local.public_access.RestrictPublicBuckets
}

resource "aws_s3_bucket_server_side_encryption_configuration" "packages" {
  bucket = aws_s3_bucket.packages.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.encryption.ApplyServerSideEncryptionByDefault.SSEAlgorithm
      kms_master_key_id = aws_kms_key.packages.arn
    }
    bucket_key_enabled = local.encryption.BucketKeyEnabled
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "packages" {
  bucket     = aws_s3_bucket.packages.id
  depends_on = [aws_s3_bucket_versioning.both]

  dynamic "rule" {
    for_each = local.lifecycle_rules
    content {
      id     = rule.value.ID
      status = rule.value.Status
      filter {
        prefix = rule.value.Filter.Prefix
      }
      dynamic "abort_incomplete_multipart_upload" {
        for_each = can(rule.value.AbortIncompleteMultipartUpload) ? [rule.value.AbortIncompleteMultipartUpload] : []
        content {
          days_after_initiation = abort_incomplete_multipart_upload.value.DaysAfterInitiation
        }
      }
      dynamic "expiration" {
        for_each = can(rule.value.Expiration) ? [rule.value.Expiration] : []
        content {
          days                         = can(expiration.value.Days) ? local.expiry_days : null
          expired_object_delete_marker = try(expiration.value.ExpiredObjectDeleteMarker, null)
        }
      }
      dynamic "noncurrent_version_expiration" {
        for_each = can(rule.value.NoncurrentVersionExpiration) ? [rule.value.NoncurrentVersionExpiration] : []
        content {
          noncurrent_days = noncurrent_version_expiration.value.NoncurrentDays
        }
      }
    }
  }

  lifecycle {
    precondition {
      # A safety net behind `dsar packages expire`: it must not delete a package a link still serves.
      condition     = local.expiry_days >= local.expiry_floor
      error_message = "package_expiry_days is below lifecycle.json's: a package must outlive its longest link (30 days)."
    }
  }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket     = aws_s3_bucket.audit.id
  depends_on = [aws_s3_bucket_versioning.both]
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.retention_days
    }
  }
}

output "kms_key_arn" {
  value = aws_kms_key.packages.arn
}
