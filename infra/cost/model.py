"""Monthly AWS cost of the exchange, from the unit rates in rates.toml.

Usage:
    python3 infra/cost/model.py            print docs/cost.md to stdout
    python3 infra/cost/model.py --write    rewrite docs/cost.md
    python3 infra/cost/model.py --check    exit 1 if docs/cost.md is stale

Python standard library only, so it runs wherever python3 (3.11+) does.
Every line of the table is quantity x unit rate; the quantities follow from
the workload and sizing sections of rates.toml, so a price change or a new
load is one edit and one re-run.
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RATES = HERE / "rates.toml"
DOC = HERE.parent.parent / "docs" / "cost.md"
GB_PER_TB = 1024
SECONDS_PER_MONTH = 730 * 3600


@dataclass(frozen=True)
class Line:
    group: str
    rate_key: str
    quantity: float
    unit: str
    why: str


@dataclass(frozen=True)
class Sizing:
    app_pods: int
    nodes: int
    requests_per_month: float
    egress_gb: float
    cross_az_gb: float
    app_log_gb: float
    nlcu: float


def size(workload: dict, sizing: dict) -> Sizing:
    """Derive pods, nodes and traffic volumes from the workload."""
    rps = workload["requests_per_second"]
    needed_vcpu = rps / sizing["requests_per_vcpu"] * sizing["headroom"]
    pods = max(
        math.ceil(needed_vcpu / sizing["app_vcpu_per_pod"]),
        3 * sizing["min_pods_per_zone"],
    )
    pods = 3 * math.ceil(pods / 3)
    usable = sizing["node_vcpu_allocatable"] * sizing["node_target_utilisation"]
    nodes = 3
    while (
        pods * sizing["app_vcpu_per_pod"]
        + sizing["platform_vcpu"]
        + nodes * sizing["daemonset_vcpu_per_node"]
    ) > nodes * usable:
        nodes += 3
    requests = rps * SECONDS_PER_MONTH
    egress_gb = workload["egress_tb_per_month"] * GB_PER_TB
    response_bytes = egress_gb * 2**30 / requests
    edge_bytes = (workload["request_bytes"] + response_bytes) * requests
    data_bytes = workload["db_cache_bytes_per_request"] * requests
    cross_az_gb = workload["cross_az_share"] * (edge_bytes + data_bytes) / 2**30
    app_log_gb = workload["app_log_bytes_per_request"] * requests / 2**30
    processed_gb_per_hour = edge_bytes / 2**30 / 730
    nlcu = max(
        processed_gb_per_hour / 1.0,
        workload["new_connections_per_second"] / 800,
        workload["active_connections"] / 100_000,
    )
    return Sizing(pods, nodes, requests, egress_gb, cross_az_gb, app_log_gb, nlcu)


def lines(cfg: dict, s: Sizing) -> list[Line]:
    z = cfg["sizing"]
    w = cfg["workload"]
    h = cfg["meta"]["hours_per_month"]
    first_tier = min(s.egress_gb, 10 * GB_PER_TB) - 100
    next_tier = max(0.0, s.egress_gb - 10 * GB_PER_TB)
    return [
        Line("Compute", "eks_cluster", h, "cluster-hours", "one cluster, three zones"),
        Line(
            "Compute",
            "ec2_m7i_xlarge",
            s.nodes * h,
            "instance-hours",
            f"{s.nodes} nodes ({s.nodes // 3} per zone) for {s.app_pods} API pods and the platform",
        ),
        Line(
            "Compute",
            "ebs_gp3",
            s.nodes * z["node_root_gb"] + z["prometheus_gb"] + z["grafana_gb"],
            "GB-month",
            f"node root volumes ({z['node_root_gb']} GB each), Prometheus and Grafana volumes",
        ),
        Line(
            "Database",
            "rds_pg_r7g_large_multi_az",
            h,
            "instance-hours",
            "primary with synchronous standby",
        ),
        Line(
            "Database",
            "rds_gp3_multi_az",
            z["rds_storage_gb"],
            "GB-month",
            "primary storage, Multi-AZ",
        ),
        Line(
            "Database",
            "rds_pg_r7g_large_single_az",
            h,
            "instance-hours",
            "read replica for account reads",
        ),
        Line(
            "Database",
            "rds_gp3_single_az",
            z["rds_storage_gb"],
            "GB-month",
            "read replica storage",
        ),
        Line(
            "Database",
            "rds_backup",
            z["rds_backup_gb_beyond_free"],
            "GB-month",
            "automated backups, 14-day PITR, beyond the free allowance",
        ),
        Line(
            "Cache",
            "elasticache_m7g_large",
            z["redis_nodes"] * h,
            "node-hours",
            f"{z['redis_nodes']} nodes: primary and replica in two zones, automatic failover",
        ),
        Line(
            "Network",
            "nat_gateway_hour",
            z["nat_gateways"] * h,
            "gateway-hours",
            "one NAT gateway per zone",
        ),
        Line(
            "Network",
            "nat_gateway_gb",
            w["nat_gb_per_month"],
            "GB",
            "outbound calls from pods (image layers go through the free S3 endpoint)",
        ),
        Line(
            "Network",
            "public_ipv4",
            z["public_ipv4"] * h,
            "IP-hours",
            "NAT gateway EIPs and NLB addresses",
        ),
        Line("Network", "nlb_hour", h, "NLB-hours", "one NLB in front of Kong"),
        Line(
            "Network",
            "nlb_nlcu",
            s.nlcu * h,
            "NLCU-hours",
            f"{s.nlcu:.1f} NLCU on average, bytes-bound",
        ),
        Line(
            "Network",
            "egress_first_10tb",
            max(0.0, first_tier),
            "GB",
            f"{w['egress_tb_per_month']} TB/month out, less the free 100 GB",
        ),
        Line(
            "Network", "egress_next_40tb", next_tier, "GB", "egress beyond 10 TB/month"
        ),
        Line(
            "Network",
            "cross_az",
            s.cross_az_gb,
            "GB",
            "Kong to pods and pods to PostgreSQL/Redis in another zone (RDS replication is free)",
        ),
        Line(
            "Observability",
            "cloudwatch_ingest",
            z["cloudwatch_infra_log_gb"] + s.app_log_gb,
            "GB",
            f"{z['cloudwatch_infra_log_gb']} GB infrastructure logs + {s.app_log_gb:.0f} GB access logs",
        ),
        Line(
            "Observability",
            "cloudwatch_storage",
            (z["cloudwatch_infra_log_gb"] + s.app_log_gb)
            * 12
            * z["cloudwatch_stored_ratio"],
            "GB-month",
            "one year retained, compressed (steady state)",
        ),
        Line("Observability", "sentry_team", 1, "month", "error tracking (SaaS)"),
        Line(
            "Security",
            "secrets_manager_secret",
            z["secrets"],
            "secret-months",
            "connection, app and the RDS-managed master secret",
        ),
        Line(
            "Security",
            "secrets_manager_calls",
            z["secret_api_calls"] / 10_000,
            "x 10,000 calls",
            "External Secrets refreshing hourly",
        ),
        Line(
            "Security",
            "kms_key",
            z["kms_keys"],
            "key-months",
            "one key per environment",
        ),
        Line(
            "Security",
            "kms_requests",
            z["kms_requests"] / 10_000,
            "x 10,000 requests",
            "encrypt/decrypt calls",
        ),
        Line("Security", "ecr_storage", z["ecr_gb"], "GB-month", "release images"),
    ]


def money(value: float) -> str:
    return f"${value:,.2f}"


def quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"


def render(cfg: dict) -> str:
    w, z, meta = cfg["workload"], cfg["sizing"], cfg["meta"]
    s = size(w, z)
    rows = lines(cfg, s)
    total = 0.0
    by_group: dict[str, float] = {}
    table = [
        "| Group | Item | Quantity / month | Unit rate | Monthly | Why | Source | Rate taken |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for line in rows:
        rate = cfg["rates"][line.rate_key]
        monthly = line.quantity * rate["usd"]
        total += monthly
        by_group[line.group] = by_group.get(line.group, 0.0) + monthly
        why = f"{line.why} (rate: {rate['basis']})" if "basis" in rate else line.why
        table.append(
            f"| {line.group} | {rate['label']} | {quantity(line.quantity)} {line.unit} "
            f"| ${rate['usd']:g} / {rate['unit']} | {money(monthly)} | {why} "
            f"| <{rate['source']}> | {rate['taken']} |"
        )
    table.append(f"| **Total** | | | | **{money(total)}** | | | |")
    per_million = total / (s.requests_per_month / 1e6)
    groups = "\n".join(
        f"| {group} | {money(amount)} | {amount / total:.0%} |"
        for group, amount in sorted(by_group.items(), key=lambda item: -item[1])
    )
    return f"""# Cost model

<!-- Generated by infra/cost/model.py from infra/cost/rates.toml. Do not edit by
hand: change the rates or the workload there and run
`python3 infra/cost/model.py --write`. CI fails when this file is stale. -->

Monthly on-demand cost of one production environment of the exchange in
{meta["region"]}, for {w["requests_per_second"]} requests/s on average across three availability
zones and {w["egress_tb_per_month"]} TB of data out to the internet per month.

**Total: {money(total)} per month**, about {money(total * 12)} a year, or
{money(per_million)} per million requests ({s.requests_per_month / 1e9:.2f} billion requests a month).

## How rates were taken

Every unit rate below is AWS's public us-east-1 on-demand price with its
pricing page. They were entered on {cfg["rates"]["eks_cluster"]["taken"]} from the published prices as
known at mid-2025, without live access to the pricing pages that day, so
they are **not verified live**: before a budget decision, check each rate
against its source (or the AWS Price List API), update `usd`, `taken` and
`basis` in `infra/cost/rates.toml`, and re-run the script. Taxes, support
plans, Savings Plans and Reserved Instances are not included (see
"Levers" below).

## Sizing

- API: {w["requests_per_second"]} req/s at a planning rate of {z["requests_per_vcpu"]} req/s per vCPU (the app
  measures ~500-1000 req/s per 2 vCPU), times {z["headroom"]:g} headroom (survive the loss of a
  zone, then absorb a 2x burst) gives **{s.app_pods} pods** of {z["app_vcpu_per_pod"]:g} vCPU
  ({z["min_pods_per_zone"]} per zone at least). The HPA grows this with load.
- Nodes: the API pods plus {z["platform_vcpu"]:g} vCPU of platform pods (Kong x3, Prometheus,
  Grafana, Argo CD, External Secrets, cert-manager, autoscaler, CoreDNS) and
  {z["daemonset_vcpu_per_node"]:g} vCPU of daemonsets per node, at {z["node_target_utilisation"]:.0%} of
  {z["node_vcpu_allocatable"]:g} allocatable vCPU per {z["node_instance"]}, rounded to whole nodes in
  every zone: **{s.nodes} nodes**.
- PostgreSQL: db.r7g.large Multi-AZ primary plus one db.r7g.large read replica,
  {z["rds_storage_gb"]} GB gp3 each, 14 days of point-in-time recovery.
- Redis: {z["redis_nodes"]} x cache.m7g.large (primary and replica, automatic failover).
- Traffic: {w["egress_tb_per_month"]} TB out ({s.egress_gb * 2**30 / s.requests_per_month / 1024:.1f} KiB per response on
  average); {w["cross_az_share"]:.0%} of the Kong-to-pod and pod-to-database bytes cross a zone,
  {s.cross_az_gb / GB_PER_TB:.1f} TB a month; access logs of {w["app_log_bytes_per_request"]} bytes per request,
  {s.app_log_gb:.0f} GB a month.

## Line items

Basis of every rate unless its row says otherwise: {meta["default_basis"]}.

{chr(10).join(table)}

## Where the money goes

| Group | Monthly | Share |
|---|---:|---:|
{groups}

## Levers

- Egress is the largest single line and scales with market-data volume:
  compressing responses (gzip/br at Kong) and serving public market data
  through CloudFront (cheaper per GB than EC2 egress at volume) cut it most.
- A 1-year Compute Savings Plan and RDS/ElastiCache reserved nodes typically
  take 30-40% off the compute, database and cache lines.
- Topology-aware routing (Kong preferring pods in its own zone) removes most
  of the Kong-to-pod cross-zone bytes.
- Access logs: sampling successful GETs, or shipping to S3 instead of
  CloudWatch Logs, removes most of that line.
- Staging (infra/terraform/envs/staging.tfvars: t4g database and cache, one
  node per zone) costs a fraction of this and is not included.

Scaling the load: docs/scaling.md.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite docs/cost.md")
    mode.add_argument(
        "--check", action="store_true", help="fail if docs/cost.md is stale"
    )
    args = parser.parse_args()
    with RATES.open("rb") as handle:
        cfg = tomllib.load(handle)
    text = render(cfg)
    if args.write:
        DOC.write_text(text)
        print(f"wrote {DOC}")
        return 0
    if args.check:
        if DOC.exists() and DOC.read_text() == text:
            print(f"{DOC.name} matches the model")
            return 0
        print(
            f"{DOC} is stale: run python3 infra/cost/model.py --write", file=sys.stderr
        )
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
