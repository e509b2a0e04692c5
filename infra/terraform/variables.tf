variable "environment" {
  description = "Environment name, used in resource names and secret paths (staging or production)."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "The three availability zones the exchange runs in."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]

  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "The exchange runs in exactly three availability zones."
  }
}

variable "vpc_cidr" {
  description = "VPC address range; the Kubernetes NetworkPolicy egress rule for PostgreSQL and Redis names the same range."
  type        = string
  default     = "10.40.0.0/16"
}

variable "operator_cidrs" {
  description = "Ranges (corporate VPN) allowed to reach the private EKS API endpoint."
  type        = list(string)
  default     = ["10.200.0.0/16"]
}

variable "eks_version" {
  description = "Kubernetes version of the EKS control plane and nodes."
  type        = string
  default     = "1.34"
}

variable "node_instance_types" {
  description = "Instance types of the application node groups (one group per zone)."
  type        = list(string)
  default     = ["m7i.xlarge"]
}

variable "nodes_per_zone" {
  description = "Size of each zone's node group."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = {
    min     = 2
    desired = 2
    max     = 6
  }
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class, primary and replica."
  type        = string
  default     = "db.r7g.large"
}

variable "db_allocated_storage_gb" {
  description = "Initial gp3 storage of the database; storage autoscaling may grow it to db_max_allocated_storage_gb."
  type        = number
  default     = 100
}

variable "db_max_allocated_storage_gb" {
  description = "Upper bound for RDS storage autoscaling."
  type        = number
  default     = 1000
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14
}

variable "db_read_replica" {
  description = "Whether to run the read replica for account reads."
  type        = bool
  default     = true
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.m7g.large"
}

variable "redis_nodes" {
  description = "Redis nodes (one primary, the rest replicas in other zones); at least 2 for automatic failover."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_nodes >= 2 && var.redis_nodes <= 3
    error_message = "Automatic failover needs 2 or 3 nodes here (one per zone at most)."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for control-plane, flow and database logs."
  type        = number
  default     = 365
}
