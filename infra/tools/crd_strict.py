"""Strict validation of custom resources that kubernetes-validate has no schema for.

Usage: crd_strict.py FILE...   (multi-document YAML, e.g. `kubectl kustomize` output)

Every object must be of a kind listed in crd_schemas.yaml; each is checked
against that closed schema, its metadata against a closed ObjectMeta, and a
KongPlugin's free-form `config` against the schema of its plugin. Exit 1 on
any failure or unknown kind, so nothing passes for want of a schema.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).with_name("crd_schemas.yaml")

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

OBJECT_META: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": DNS_SUBDOMAIN},
        "namespace": {"type": "string", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}


def closed(schema: Any) -> Any:
    """Return a JSON Schema from an OpenAPI v3 structural schema, closed to unknown keys.

    An object that lists properties and neither sets additionalProperties nor
    x-kubernetes-preserve-unknown-fields gets additionalProperties: false,
    which is what the API server's pruning would silently do to an unknown key.
    """
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        key: closed(value)
        for key, value in schema.items()
        if not key.startswith("x-kubernetes-")
    }
    out.pop("format", None)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return out
    if "properties" in schema and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


def load_validators() -> tuple[
    dict[str, Draft202012Validator], dict[str, Draft202012Validator]
]:
    spec = yaml.safe_load(SCHEMAS.read_text())
    kinds = {}
    for key, schema in spec["kinds"].items():
        schema = closed(copy.deepcopy(schema))
        schema["properties"]["metadata"] = OBJECT_META
        Draft202012Validator.check_schema(schema)
        kinds[key] = Draft202012Validator(schema)
    plugins = {}
    for name, schema in spec["kong_plugins"].items():
        schema = closed(copy.deepcopy(schema))
        Draft202012Validator.check_schema(schema)
        plugins[name] = Draft202012Validator(schema)
    return kinds, plugins


def errors_of(
    validator: Draft202012Validator, instance: Any, prefix: str = ""
) -> list[str]:
    found = []
    for error in sorted(
        validator.iter_errors(instance), key=lambda e: list(e.absolute_path)
    ):
        where = "/".join(str(part) for part in error.absolute_path)
        found.append(f"{prefix}{where or '.'}: {error.message}")
    return found


def main(paths: list[str]) -> int:
    kinds, plugins = load_validators()
    failed = checked = 0
    for path in paths:
        for obj in yaml.safe_load_all(Path(path).read_text()):
            if not obj:
                continue
            checked += 1
            key = f"{obj.get('apiVersion')}/{obj.get('kind')}"
            name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
            validator = kinds.get(key)
            if validator is None:
                print(f"FAIL {name}: no schema for {key} (add it to {SCHEMAS.name})")
                failed += 1
                continue
            problems = errors_of(validator, obj)
            if key.startswith("configuration.konghq.com/"):
                plugin = plugins.get(obj.get("plugin"))
                if plugin is None:
                    problems.append(
                        f"plugin {obj.get('plugin')!r} has no config schema"
                    )
                else:
                    problems += errors_of(
                        plugin, obj.get("config", {}), prefix="config/"
                    )
            if problems:
                failed += 1
                for problem in problems:
                    print(f"FAIL {name}: {problem}")
            else:
                print(f"ok   {name} ({key}, strict)")
    print(f"{checked} custom resources checked, {failed} failed")
    return 1 if failed or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
