output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.main.name
}

output "redis_primary_endpoint" {
  description = "ElastiCache primary endpoint: the Kong rate-limit plugins' redis host in infra/k8s/overlays/<env>."
  value       = aws_elasticache_replication_group.main.primary_endpoint_address
}

output "db_primary_address" {
  description = "RDS primary endpoint (follows a Multi-AZ failover)."
  value       = aws_db_instance.primary.address
}

output "db_replica_address" {
  description = "RDS read replica endpoint, if any."
  value       = var.db_read_replica ? aws_db_instance.replica[0].address : null
}

output "db_master_secret_arn" {
  description = "Secrets Manager secret of the RDS-managed master user (bootstrap and break-glass only)."
  value       = aws_db_instance.primary.master_user_secret[0].secret_arn
}

output "secret_names" {
  description = "Secrets Manager secrets External Secrets reads."
  value = {
    connection = aws_secretsmanager_secret.connection.name
    app        = aws_secretsmanager_secret.app.name
  }
}

output "external_secrets_role_arn" {
  description = "IAM role of the External Secrets Operator (EKS Pod Identity)."
  value       = aws_iam_role.external_secrets.arn
}

output "ecr_repository_url" {
  description = "Image repository (production stack only)."
  value       = var.environment == "production" ? aws_ecr_repository.exchange[0].repository_url : null
}
