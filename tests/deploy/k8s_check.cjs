// Checks the rendered Kubernetes objects of one overlay (JSON array on stdin):
//   - every object against its schema (kubernetes-models, offline); kinds it does not know
//     (the ServiceMonitor) are named and skipped;
//   - every Deployment has startup, liveness and readiness probes, CPU and memory requests
//     and a memory limit, maxUnavailable 0, a preStop hook, a termination grace period
//     longer than its drain, a hardened security context, and a matching
//     PodDisruptionBudget, NetworkPolicy and (unless annotated genesis.io/autoscale: "no")
//     an autoscaling/v2 HorizontalPodAutoscaler (2-10 in prod, CPU 70 %, memory 80 %);
//   - every GENESIS_* variable a container sets is a flag its binary has (--helpfull of the
//     built binaries, named by GENESIS_BIN_DIR_<BINARY> variables), except the gateway's
//     GENESIS_<PACKAGE>_ADDR backend addresses.
// Usage: node k8s_check.cjs OVERLAY_NAME TOOLS_DIR < rendered.json
"use strict";
const { createRequire } = require("module");
const { execFileSync } = require("child_process");
const fs = require("fs");

const [overlay, tools] = process.argv.slice(2);
const requireTool = createRequire(`${tools}/package.json`);
const objects = JSON.parse(fs.readFileSync(0, "utf8"));
const problems = [];
const problem = (obj, text) => problems.push(`${obj.kind}/${obj.metadata?.name}: ${text}`);

// Schema validation.
for (const obj of objects) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const module = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  let Model;
  try {
    Model = requireTool(module)[obj.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    console.log(`k8s_check: ${overlay}: ${obj.apiVersion} ${obj.kind} not in kubernetes-models: schema not checked`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    problem(obj, `schema: ${e.message}`);
  }
}

const of = (kind) => objects.filter((o) => o.kind === kind);
const matches = (selector, labels) =>
  selector && Object.entries(selector).every(([k, v]) => labels[k] === v);

const helpCache = new Map();
function flagsOf(binary) {
  const env = `GENESIS_BIN_${binary.replace(/^genesis-/, "").replace(/-/g, "_").toUpperCase()}`;
  const path = process.env[env];
  if (!path) return null;
  if (!helpCache.has(path)) {
    let text;
    try {
      text = execFileSync(path, ["--helpfull"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      text = `${e.stdout || ""}${e.stderr || ""}`;  // gflags exits 1 after --helpfull
    }
    helpCache.set(path, new Set([...text.matchAll(/^\s+-([a-z0-9_]+) \(/gm)].map((m) => m[1])));
  }
  return helpCache.get(path);
}

for (const d of of("Deployment")) {
  const name = d.metadata.name;
  const spec = d.spec;
  const pod = spec.template.spec;
  const labels = spec.template.metadata.labels || {};
  if (spec.strategy?.rollingUpdate?.maxUnavailable !== 0) problem(d, "rolling update without maxUnavailable: 0");
  const ctx = pod.securityContext || {};
  if (ctx.runAsNonRoot !== true) problem(d, "pod securityContext without runAsNonRoot: true");
  for (const c of pod.containers) {
    for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      if (!c[p]) problem(d, `container ${c.name} has no ${p}`);
    }
    const r = c.resources || {};
    if (!r.requests?.cpu || !r.requests?.memory) problem(d, `container ${c.name} has no CPU and memory requests`);
    if (!r.limits?.memory) problem(d, `container ${c.name} has no memory limit`);
    if (!c.lifecycle?.preStop) problem(d, `container ${c.name} has no preStop hook`);
    const sc = c.securityContext || {};
    if (sc.allowPrivilegeEscalation !== false || sc.readOnlyRootFilesystem !== true ||
        !(sc.capabilities?.drop || []).includes("ALL")) {
      problem(d, `container ${c.name}: securityContext must forbid privilege escalation, make the root filesystem read-only and drop ALL capabilities`);
    }
    const env = Object.fromEntries((c.env || []).filter((e) => "value" in e).map((e) => [e.name, e.value]));
    const drainMs = Number(env.GENESIS_SHUTDOWN_DRAIN_DELAY_MS || 0) + Number(env.GENESIS_SHUTDOWN_GRACE_MS || 10000);
    const preStopS = Number((c.lifecycle?.preStop?.exec?.command || []).at(-1)) || 0;
    if (!(pod.terminationGracePeriodSeconds > drainMs / 1000 + preStopS)) {
      problem(d, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} is not longer than preStop ${preStopS} s + drain ${drainMs / 1000} s`);
    }
    const binary = (c.command || [])[0]?.split("/").pop();
    const flags = binary && flagsOf(binary);
    if (!binary) problem(d, `container ${c.name} names no binary in command`);
    else if (!flags) problem(d, `no GENESIS_BIN_* variable for ${binary}: its flags cannot be checked`);
    else {
      for (const e of c.env || []) {
        if (!e.name.startsWith("GENESIS_")) continue;
        if (binary === "genesis-gateway" && /^GENESIS_[A-Z]+_ADDR$/.test(e.name)) continue;
        const flag = e.name.slice("GENESIS_".length).toLowerCase();
        if (!flags.has(flag)) problem(d, `${e.name}: ${binary} has no flag --${flag}`);
      }
    }
  }
  if (!of("PodDisruptionBudget").some((p) => matches(p.spec.selector?.matchLabels, labels))) {
    problem(d, "no PodDisruptionBudget selects its pods");
  }
  if (!of("NetworkPolicy").some((p) => Object.keys(p.spec.podSelector?.matchLabels || {}).length > 0 &&
                                      matches(p.spec.podSelector.matchLabels, labels))) {
    problem(d, "no NetworkPolicy of its own selects its pods");
  }
  if (d.metadata.annotations?.["genesis.io/autoscale"] !== "no") {
    const hpa = of("HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.kind === "Deployment" &&
                                                        h.spec.scaleTargetRef.name === name);
    if (!hpa) problem(d, "no HorizontalPodAutoscaler (annotate genesis.io/autoscale: \"no\" if it must not scale)");
    else {
      if (hpa.apiVersion !== "autoscaling/v2") problem(hpa, "not autoscaling/v2");
      const target = (res) => hpa.spec.metrics?.find((m) => m.resource?.name === res)?.resource.target.averageUtilization;
      if (target("cpu") !== 70 || target("memory") !== 80) problem(hpa, "targets are not CPU 70 % and memory 80 %");
      if (overlay === "prod" && (hpa.spec.minReplicas !== 2 || hpa.spec.maxReplicas !== 10)) {
        problem(hpa, "prod replicas are not 2-10");
      }
    }
  }
}
if (!of("NetworkPolicy").some((p) => Object.keys(p.spec.podSelector || {}).length === 0 &&
                                    (p.spec.policyTypes || []).includes("Ingress") && !p.spec.ingress &&
                                    (p.spec.policyTypes || []).includes("Egress") && !p.spec.egress)) {
  problems.push("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)");
}
if (of("Deployment").length === 0) problems.push("no Deployment rendered");

if (problems.length) {
  for (const p of problems) console.error(`k8s_check: ${overlay}: ${p}`);
  process.exit(1);
}
console.log(`k8s_check: ${overlay}: ${objects.length} objects, ${of("Deployment").length} Deployments: OK`);
