environment = "staging"

nodes_per_zone = {
  min     = 1
  desired = 1
  max     = 3
}

db_instance_class        = "db.t4g.medium"
db_allocated_storage_gb  = 50
db_backup_retention_days = 7
db_read_replica          = true
redis_node_type          = "cache.t4g.small"
redis_nodes              = 2
log_retention_days       = 90
