environment = "production"

nodes_per_zone = {
  min     = 2
  desired = 2
  max     = 6
}

db_instance_class = "db.r7g.large"
db_read_replica   = true
redis_node_type   = "cache.m7g.large"
redis_nodes       = 2
