# One customer-managed key per environment encrypts everything at rest:
# Kubernetes secrets, RDS, ElastiCache, Secrets Manager, ECR and logs.
resource "aws_kms_key" "exchange" {
  description             = "exchange-${var.environment}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "exchange" {
  name          = "alias/exchange-${var.environment}"
  target_key_id = aws_kms_key.exchange.key_id
}

data "aws_iam_policy_document" "kms" {
  # In a key policy, "*" as the resource means this key and nothing else.
  # checkov:skip=CKV_AWS_109:Key policy: resource "*" is the key itself; the account administers it through IAM, the AWS default.
  # checkov:skip=CKV_AWS_111:Key policy: resource "*" is the key itself; CloudWatch Logs is limited by an encryption-context condition.
  # checkov:skip=CKV_AWS_356:Key policy: resource "*" is the key itself, the only form a key policy allows.
  # The account administers the key through IAM; services below use it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncrypt"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }
}
