bucket = "exchange-terraform-state-123456789012"
key    = "exchange/production/terraform.tfstate"
