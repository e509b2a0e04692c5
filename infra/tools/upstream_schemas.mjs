// Validates custom resources against their upstream schemas, as generated
// from each project's Go API types and published on the npm registry by the
// kubernetes-models project (versions pinned in package.json). These catch
// wrong types, enum values, patterns and missing required fields; they do
// not reject unknown fields, which crd_strict.py does.
//
// Input: a JSON array of objects on stdin. Output: one line per object.
// Exit 1 if any object fails or has a kind with no schema here.
import { readFileSync } from "node:fs";

const MODELS = {
  "monitoring.coreos.com/v1/ServiceMonitor":
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PrometheusRule":
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
  "argoproj.io/v1alpha1/Application":
    "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application",
  "argoproj.io/v1alpha1/AppProject":
    "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject",
  "external-secrets.io/v1/ExternalSecret":
    "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret",
};

// Kinds with no kubernetes-models package: crd_strict.py checks them
// against their full upstream CRD schema instead.
const ELSEWHERE = new Set(["configuration.konghq.com/v1/KongPlugin"]);

const objects = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const obj of objects) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const name = `${obj.kind}/${obj.metadata?.name}`;
  const path = MODELS[key];
  if (ELSEWHERE.has(key)) {
    console.log(`skip ${name}: full upstream CRD schema checked by crd_strict.py`);
    continue;
  }
  if (!path) {
    console.log(`NO-SCHEMA ${name} (${obj.apiVersion}): no upstream model here`);
    failed += 1;
    continue;
  }
  const mod = await import(path);
  const Model = mod[obj.kind];
  try {
    new Model(obj).validate();
    console.log(`ok ${name} against ${path.split("/").slice(0, 2).join("/")}`);
  } catch (err) {
    console.log(`INVALID ${name}: ${err.message}`);
    failed += 1;
  }
}
process.exit(failed ? 1 : 0);
