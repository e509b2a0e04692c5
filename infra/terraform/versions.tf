# One root module per environment state: the same code, two tfvars files
# (envs/staging.tfvars, envs/production.tfvars) and two state keys.
#   terraform init -backend-config=envs/production.backend.hcl
#   terraform apply -var-file=envs/production.tfvars
terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State in S3 with native locking; bucket and key come from
  # envs/<env>.backend.hcl so environments never share a state file.
  backend "s3" {
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "exchange"
      Environment = var.environment
      ManagedBy   = "terraform"
      Repository  = "exchange/infra/terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
