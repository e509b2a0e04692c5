# Redis, the cache (market data snapshots, sessions, API-key lookups) and
# Kong's shared rate-limit counters. A primary and a replica in different
# zones with automatic failover; TLS in transit with an AUTH token, and
# encrypted at rest. Losing it degrades the exchange, never breaks it: the
# app falls back to PostgreSQL and Kong's limits fail open.
resource "aws_elasticache_subnet_group" "main" {
  name       = local.name
  subnet_ids = [for subnet in aws_subnet.data : subnet.id]
}

resource "random_password" "redis_auth" {
  # ElastiCache AUTH tokens: 16-128 printable characters, no @, " or /.
  length           = 48
  special          = true
  override_special = "!&#$^<>-"
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id = local.name
  description          = "exchange ${var.environment}: cache and rate limits"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.redis_node_type
  port                 = 6379
  parameter_group_name = "default.redis7"

  num_cache_clusters          = var.redis_nodes
  preferred_cache_cluster_azs = slice(var.availability_zones, 0, var.redis_nodes)
  automatic_failover_enabled  = true
  multi_az_enabled            = true

  subnet_group_name  = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.redis.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.exchange.arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.redis_auth.result
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = 3
  snapshot_window            = "02:00-03:00"
  maintenance_window         = "sun:05:00-sun:06:00"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.redis.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }
}

resource "aws_cloudwatch_log_group" "redis" {
  name              = "/exchange/${var.environment}/redis"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.exchange.arn
}
