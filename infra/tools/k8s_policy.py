"""Checks on rendered overlays that no schema can express.

Usage: k8s_policy.py REPO_ROOT RENDERED.yaml

The rules of infra/k8s that hold the design together: the shipped command
is the benchmarked one, pods spread over zones and shut down gracefully,
every pod is locked down, limits are counted in Redis, migrations run before
the rollout, and the reconcile CronJob is the one the alert watches.
Prints one line per rule; exit 1 if any fails.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com/exchange:[0-9A-Za-z][0-9A-Za-z._-]*$"
)
RECONCILE_ALERT_JOB_RE = re.compile(r'job_name=~"([^"]+)"')

failures: list[str] = []


def check(ok: bool, rule: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {rule}")
    if not ok:
        failures.append(rule)


def pod_specs(objects: list[dict]) -> Iterator[tuple[str, dict]]:
    for obj in objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind in ("Deployment", "Job"):
            yield f"{kind}/{name}", obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield (
                f"{kind}/{name}",
                obj["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            )


def one(objects: list[dict], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise SystemExit(f"FAIL expected exactly one {kind}/{name}, found {len(found)}")
    return found[0]


def dockerfile_cmd(root: Path) -> list[str]:
    cmd = None
    for line in (root / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            cmd = json.loads(line[4:])
    if cmd is None:
        raise SystemExit("FAIL Dockerfile has no exec-form CMD")
    return cmd


def makefile_serve_prod(root: Path) -> list[str] | None:
    makefile = root / "Makefile"
    if not makefile.exists():
        return None
    lines = makefile.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^serve-prod\s*:", line):
            for body in lines[i + 1 :]:
                if not body.startswith("\t"):
                    break
                words = shlex.split(body.strip().lstrip("@-"))
                if "gunicorn" in [Path(w).name for w in words]:
                    start = [Path(w).name for w in words].index("gunicorn")
                    return ["gunicorn"] + words[start + 1 :]
    return None


def main(root_dir: str, rendered: str) -> int:
    root = Path(root_dir)
    objects = [o for o in yaml.safe_load_all(Path(rendered).read_text()) if o]
    deploy = one(objects, "Deployment", "exchange")
    pod = deploy["spec"]["template"]["spec"]
    app = next(c for c in pod["containers"] if c["name"] == "exchange")
    config = next(
        o
        for o in objects
        if o["kind"] == "ConfigMap"
        and o["metadata"]["name"].startswith("exchange-config")
    )

    # What is benchmarked is what ships.
    cmd = dockerfile_cmd(root)
    check(
        cmd
        == ["gunicorn", "--config", "gunicorn.conf.py", "exchange.wsgi:application"],
        f"Dockerfile CMD is the serving command ({' '.join(cmd)})",
    )
    check(app.get("command") == cmd, "Deployment runs the Dockerfile CMD unchanged")
    make_cmd = makefile_serve_prod(root)
    if make_cmd is None:
        print(
            "note Makefile has no serve-prod recipe running gunicorn yet; not compared"
        )
    else:
        check(
            make_cmd == cmd,
            f"make serve-prod runs the same command ({' '.join(make_cmd)})",
        )

    # Zones, probes, shutdown.
    zone = [
        t
        for t in pod.get("topologySpreadConstraints", [])
        if t["topologyKey"] == "topology.kubernetes.io/zone"
    ]
    check(
        bool(zone)
        and zone[0]["whenUnsatisfiable"] == "DoNotSchedule"
        and zone[0]["maxSkew"] == 1,
        "API pods spread evenly over zones (maxSkew 1, DoNotSchedule)",
    )
    probes = {
        p: app.get(p, {}).get("httpGet", {}).get("path")
        for p in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    check(
        probes
        == {
            "startupProbe": "/healthz",
            "livenessProbe": "/healthz",
            "readinessProbe": "/readyz",
        },
        f"probes: startup and liveness on /healthz, readiness on /readyz ({probes})",
    )
    pre_stop = (
        app.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    )
    sleep = (
        int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0].endswith("sleep") else 0
    )
    graceful = int(config["data"].get("WEB_GRACEFUL_TIMEOUT", "30"))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(
        sleep > 0 and grace > sleep + graceful,
        f"terminationGracePeriodSeconds {grace} > preStop sleep {sleep} + WEB_GRACEFUL_TIMEOUT {graceful}",
    )

    hpa = one(objects, "HorizontalPodAutoscaler", "exchange")
    metric_types = sorted(m["type"] for m in hpa["spec"]["metrics"])
    check(
        hpa["apiVersion"] == "autoscaling/v2"
        and hpa["spec"]["minReplicas"] >= 3
        and metric_types == ["Pods", "Resource"],
        f"HPA autoscaling/v2 on CPU and requests/s, at least one pod per zone (min {hpa['spec']['minReplicas']})",
    )
    check(
        "replicas" not in deploy["spec"],
        "Deployment leaves the replica count to the HPA",
    )
    pdb = one(objects, "PodDisruptionBudget", "exchange")
    check(
        pdb["spec"]["selector"]["matchLabels"]
        == deploy["spec"]["selector"]["matchLabels"],
        "PodDisruptionBudget covers the API pods",
    )

    # Every pod locked down, sized and on the released image.
    for where, spec in pod_specs(objects):
        psc = spec.get("securityContext", {})
        for c in spec["containers"]:
            sc = c.get("securityContext", {})
            res = c.get("resources", {})
            check(
                psc.get("runAsNonRoot") is True
                and sc.get("runAsNonRoot") is True
                and sc.get("readOnlyRootFilesystem") is True
                and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]
                and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
                and spec.get("automountServiceAccountToken") is False,
                f"{where}/{c['name']}: non-root, read-only root fs, no privilege escalation, seccomp, no token",
            )
            check(
                all(
                    k in res.get("requests", {}) and k in res.get("limits", {})
                    for k in ("cpu", "memory")
                ),
                f"{where}/{c['name']}: cpu and memory requests and limits",
            )
            check(
                bool(ECR_IMAGE.match(c["image"]))
                and not c["image"].endswith(("unset", "latest")),
                f"{where}/{c['name']}: image from ECR with a release tag ({c['image']})",
            )

    # Migrations before rollout; reconcile watched by its alert.
    migrate = one(objects, "Job", "exchange-migrate")
    check(
        migrate["metadata"].get("annotations", {}).get("argocd.argoproj.io/hook")
        == "PreSync"
        and migrate["spec"]["template"]["spec"]["containers"][0]["command"][-2:]
        == ["migrate", "--noinput"],
        "migrations run as an Argo CD PreSync Job before the rollout",
    )
    cron = one(objects, "CronJob", "exchange-reconcile")
    job_spec = cron["spec"]["jobTemplate"]["spec"]
    check(
        job_spec["template"]["spec"]["containers"][0]["command"]
        == ["python", "manage.py", "reconcile"]
        and job_spec.get("backoffLimit") == 0,
        "reconcile CronJob runs manage.py reconcile and fails at the first mismatch",
    )
    rule = one(objects, "PrometheusRule", "exchange")
    alerts = {
        r["alert"]: r
        for g in rule["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    match = RECONCILE_ALERT_JOB_RE.search(
        alerts.get("ExchangeReconcileFailed", {}).get("expr", "")
    )
    check(
        bool(match)
        and "kube_job_status_failed" in alerts["ExchangeReconcileFailed"]["expr"]
        and re.fullmatch(match.group(1), cron["metadata"]["name"] + "-29000000")
        is not None,
        "ExchangeReconcileFailed watches kube_job_status_failed of the reconcile CronJob's jobs",
    )
    for name in (
        "ExchangeLatencyP99High",
        "Exchange5xxRatioHigh",
        "ExchangePairLockWaitHigh",
        "ExchangeReconcileFailed",
        "ExchangePodRestarting",
    ):
        check(name in alerts, f"alert {name} is defined")

    # Gateway.
    limits = [
        o
        for o in objects
        if o["kind"] == "KongPlugin" and o["plugin"] == "rate-limiting"
    ]
    check(
        bool(limits) and all(o["config"]["policy"] == "redis" for o in limits),
        f"every rate limit is counted in Redis, shared by all Kong replicas ({len(limits)} plugins)",
    )
    plugins = {o["metadata"]["name"] for o in objects if o["kind"] == "KongPlugin"}
    limiters = {
        o["metadata"]["name"]
        for o in objects
        if o["kind"] == "KongPlugin" and o.get("plugin") == "rate-limiting"
    }
    for ing in (o for o in objects if o["kind"] == "Ingress"):
        used = set(
            ing["metadata"]
            .get("annotations", {})
            .get("konghq.com/plugins", "")
            .split(",")
        )
        check(
            ing["spec"].get("ingressClassName") == "kong"
            and used <= plugins
            and bool(used & limiters),
            f"Ingress/{ing['metadata']['name']}: routed by Kong, rate-limited, plugins exist ({sorted(used)})",
        )
        paths = [p["path"] for r in ing["spec"]["rules"] for p in r["http"]["paths"]]
        check(
            not any(
                p.startswith(("/metrics", "/healthz", "/readyz")) or p == "/"
                for p in paths
            ),
            f"Ingress/{ing['metadata']['name']}: does not expose /metrics or the probes ({paths})",
        )

    placeholders = sorted(
        {m for m in re.findall(r"[\w.-]*REPLACE-ME[\w.-]*", Path(rendered).read_text())}
    )
    if placeholders:
        print(
            f"note values to fill in from `terraform output` before the first sync: {', '.join(placeholders)}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
