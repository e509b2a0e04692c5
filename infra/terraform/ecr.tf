# The image repository. Tags are immutable: a release tag names exactly one
# image digest for ever, which is why the manifests may deploy by tag.
resource "aws_ecr_repository" "exchange" {
  # One repository for both environments: staging and production run the
  # same image, promoted by tag. Created with the production stack only.
  count = var.environment == "production" ? 1 : 0

  name                 = "exchange"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.exchange.arn
  }
}

resource "aws_ecr_lifecycle_policy" "exchange" {
  count = var.environment == "production" ? 1 : 0

  repository = aws_ecr_repository.exchange[0].name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the last 200 release images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = 200
        }
        action = {
          type = "expire"
        }
      },
    ]
  })
}
