"""Offline checks of infra/terraform without `terraform init`.

Usage: tf_check.py TERRAFORM_DIR

Parses every .tf, .tfvars and .hcl file with python-hcl2, then checks what
`terraform validate` would catch without providers: every var.*, local.*,
resource and data reference names something declared, every tfvars key is a
declared variable; and the design's invariants (three zones, Multi-AZ
database with backups and a replica, Redis with automatic failover,
encryption at rest). Exit 1 on any failure.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hcl2

REF = re.compile(r"(?<![\w.\"])(data\.)?((?:aws|random)_[a-z0-9_]+)\.([a-z0-9_]+)")
VAR = re.compile(r"\bvar\.([a-z0-9_]+)")
LOCAL = re.compile(r"\blocal\.([a-z0-9_]+)")

failures: list[str] = []


def check(ok: bool, rule: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {rule}")
    if not ok:
        failures.append(rule)


def unquote(value):
    """python-hcl2 keeps the quotes of block labels and string literals; drop them."""
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"\s#.*$|^\s*#.*$", "", line) for line in text.splitlines())


def main(directory: str) -> int:
    root = Path(directory)
    parsed = {}
    for path in sorted(
        [*root.glob("*.tf"), *root.glob("envs/*.tfvars"), *root.glob("envs/*.hcl")]
    ):
        try:
            with path.open() as handle:
                parsed[path] = unquote(hcl2.load(handle))
            print(f"ok   parsed {path.relative_to(root)}")
        except Exception as error:  # noqa: BLE001 - any parse error is a failure to report
            check(False, f"parse {path.relative_to(root)}: {error}")
    tf = {p: d for p, d in parsed.items() if p.suffix == ".tf"}

    variables, locals_, resources, datas = set(), set(), {}, set()
    for doc in tf.values():
        for block in doc.get("variable", []):
            variables.update(block)
        for block in doc.get("locals", []):
            locals_.update(k for k in block if not k.startswith("__"))
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    resources[(rtype, name)] = body
        for block in doc.get("data", []):
            for dtype, named in block.items():
                datas.update((dtype, name) for name in named)

    source = "\n".join(strip_comments(p.read_text()) for p in tf)
    missing_vars = sorted(set(VAR.findall(source)) - variables)
    missing_locals = sorted(set(LOCAL.findall(source)) - locals_)
    missing_refs = sorted(
        {
            f"{'data.' if d else ''}{t}.{n}"
            for d, t, n in REF.findall(source)
            if (d and (t, n) not in datas) or (not d and (t, n) not in resources)
        }
    )
    check(not missing_vars, f"every var.* is declared {missing_vars or ''}")
    check(not missing_locals, f"every local.* is declared {missing_locals or ''}")
    check(
        not missing_refs,
        f"every resource and data reference is declared {missing_refs or ''}",
    )
    for path, doc in parsed.items():
        if path.suffix == ".tfvars":
            unknown = sorted(set(doc) - variables)
            check(
                not unknown, f"{path.name} sets only declared variables {unknown or ''}"
            )

    def body(rtype: str, name: str) -> dict:
        found = resources.get((rtype, name))
        check(found is not None, f"{rtype}.{name} exists")
        return found or {}

    zones = next(
        b
        for d in tf.values()
        for blk in d.get("variable", [])
        for n, b in blk.items()
        if n == "availability_zones"
    )
    check(len(zones.get("default", [])) == 3, "three availability zones by default")
    for kind in ("public", "private", "data"):
        check(
            "for_each" in body("aws_subnet", kind),
            f"{kind} subnets are created per zone",
        )
    check("for_each" in body("aws_nat_gateway", "main"), "one NAT gateway per zone")
    check(
        "for_each" in body("aws_eks_node_group", "app"),
        "one managed node group per zone",
    )
    eks = body("aws_eks_cluster", "main")
    check(bool(eks.get("encryption_config")), "EKS secrets encrypted with KMS")
    primary = body("aws_db_instance", "primary")
    check(
        primary.get("multi_az") is True
        and primary.get("backup_retention_period") not in (None, 0)
        and primary.get("storage_encrypted") is True
        and primary.get("manage_master_user_password") is True,
        "RDS PostgreSQL primary: Multi-AZ, automated backups, encrypted, master password in Secrets Manager",
    )
    replica = body("aws_db_instance", "replica")
    check(
        "aws_db_instance.primary" in str(replica.get("replicate_source_db")),
        "RDS read replica of the primary",
    )
    redis = body("aws_elasticache_replication_group", "main")
    check(
        redis.get("automatic_failover_enabled") is True
        and redis.get("multi_az_enabled") is True
        and redis.get("transit_encryption_enabled") is True
        and redis.get("at_rest_encryption_enabled") is True,
        "ElastiCache Redis: automatic failover, Multi-AZ, TLS and encryption at rest",
    )
    for name in ("connection", "app"):
        check(
            "kms_key_id" in body("aws_secretsmanager_secret", name),
            f"secret {name} in Secrets Manager with the KMS key",
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
