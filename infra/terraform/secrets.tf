# Two secrets per environment in Secrets Manager, read by External Secrets
# (infra/k8s/base/externalsecret.yaml) and by nothing else:
#   exchange/<env>/connection  endpoints, ports, names and the Redis AUTH
#                              token; written by Terraform.
#   exchange/<env>/app         SECRET_KEY, API_KEY_ENCRYPTION_KEY, SENTRY_DSN
#                              and the app database role's password; written
#                              by operators (docs/runbook.md), so these values
#                              never enter Terraform state.
resource "aws_secretsmanager_secret" "connection" {
  # checkov:skip=CKV2_AWS_57:Holds endpoints and the Redis AUTH token, which Terraform rotates (auth_token_update_strategy ROTATE); no Lambda rotation applies.
  name                    = "exchange/${var.environment}/connection"
  description             = "Endpoints and the Redis AUTH token for the exchange (Terraform-managed)"
  kms_key_id              = aws_kms_key.exchange.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "connection" {
  secret_id = aws_secretsmanager_secret.connection.id
  secret_string = jsonencode({
    db_host          = aws_db_instance.primary.address
    db_replica_host  = var.db_read_replica ? aws_db_instance.replica[0].address : aws_db_instance.primary.address
    db_port          = tostring(aws_db_instance.primary.port)
    db_name          = aws_db_instance.primary.db_name
    db_user          = "exchange_app"
    redis_host       = aws_elasticache_replication_group.main.primary_endpoint_address
    redis_port       = "6379"
    redis_auth_token = random_password.redis_auth.result
  })
}

resource "aws_secretsmanager_secret" "app" {
  # checkov:skip=CKV2_AWS_57:Rotated by the documented procedure (docs/runbook.md, Rotate secrets): SECRET_KEY and the Fernet key need the app's fallback keys during the switch, which a rotation Lambda cannot coordinate.
  name                    = "exchange/${var.environment}/app"
  description             = "Application secrets for the exchange (operator-managed values)"
  kms_key_id              = aws_kms_key.exchange.arn
  recovery_window_in_days = 30
}
