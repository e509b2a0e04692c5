"""Split rendered manifests into core kinds and custom resources.

Usage: split_manifests.py RENDERED.yaml OUTDIR KUBERNETES_VERSION

Writes OUTDIR/core.yaml (kinds kubernetes-validate has a schema for, to be
checked with `kubernetes-validate --strict`) and OUTDIR/custom.yaml
(everything else, for crd_strict.py and upstream_schemas.mjs), plus
OUTDIR/custom.json for the latter. The split asks kubernetes-validate
itself, so a core kind can never be routed around its strict check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from kubernetes_validate import utils as kv


def has_core_schema(obj: dict, version: str) -> bool:
    try:
        kv.validate(obj, version, strict=True)
    except kv.SchemaNotFoundError:
        return False
    except kv.ValidationError:
        return True
    return True


def main(rendered: str, outdir: str, version: str) -> int:
    objects = [obj for obj in yaml.safe_load_all(Path(rendered).read_text()) if obj]
    core = [obj for obj in objects if has_core_schema(obj, version)]
    custom = [obj for obj in objects if not has_core_schema(obj, version)]
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False))
    (out / "custom.yaml").write_text(yaml.safe_dump_all(custom, sort_keys=False))
    (out / "custom.json").write_text(json.dumps(custom))
    print(f"{len(objects)} objects: {len(core)} core, {len(custom)} custom")
    return 0 if objects else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
