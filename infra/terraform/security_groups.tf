# Least privilege between tiers: PostgreSQL and Redis accept connections
# only from the EKS cluster security group (nodes and pods), on their own
# port, and start none themselves.
resource "aws_security_group" "database" {
  name        = "${local.name}-database"
  description = "RDS PostgreSQL: 5432 from EKS only"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "${local.name}-database"
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_eks" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from EKS nodes and pods"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
}

resource "aws_security_group" "redis" {
  name        = "${local.name}-redis"
  description = "ElastiCache Redis: 6379 from EKS only"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "${local.name}-redis"
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_eks" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis (TLS) from EKS nodes and pods: the app and Kong's rate limits"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
}
