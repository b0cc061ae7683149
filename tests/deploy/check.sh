#!/bin/sh
# Checks the deployment files in deploy/ with the tools that read them:
#   systemd-analyze verify + security (the unit), haproxy -c, nginx -t,
#   promtool check config / check rules / test rules, sourcegate lint (the
#   example configuration and the Kubernetes ConfigMap's), and python3-yaml
#   for the Kubernetes manifests and the Dockerfile's invariants.
# Run from any directory; GW_SOURCE_ROOT is the checkout (default: two levels
# up from here), SOURCEGATE_BIN the built binary (default:
# $GW_SOURCE_ROOT/build/gateway/sourcegate). Prints one line per check and
# exits 1 if any failed. Debian packages: systemd, haproxy, nginx (or
# nginx-light), prometheus (promtool), python3-yaml, procps.
# SPDX-License-Identifier: MIT
set -u
# haproxy and nginx live in /usr/sbin, which a user's PATH often lacks
PATH=$PATH:/usr/sbin:/sbin
export PATH

here=$(cd "$(dirname "$0")" && pwd)
ROOT=${GW_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
BIN=${SOURCEGATE_BIN:-$ROOT/build/gateway/sourcegate}
D=$ROOT/deploy
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sourcegate-deploy.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
failed=0

ok() { printf 'ok   %s\n' "$1"; }
fail() {
    printf 'FAIL %s\n' "$1"
    if [ -s "$tmp/out" ]; then
        sed 's/^/     | /' "$tmp/out"
    fi
    failed=1
}
# run NAME CMD...: runs CMD with its output in $tmp/out; ok or FAIL with it
run() {
    name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        ok "$name"
    else
        fail "$name (exit $?: $*)"
    fi
}
# need CMD PACKAGE: a missing tool is a failure (tools/install-deps.sh installs them)
need() {
    if command -v "$1" >/dev/null 2>&1; then
        return 0
    fi
    : >"$tmp/out"
    fail "$1 not found: install the Debian package $2"
    return 1
}
# the ${VAR} names a file uses, one per line
vars_of() {
    # shellcheck disable=SC2016
    grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "$1" | tr -d '${}' | sort -u
}
# env-args FILE: VAR=placeholder for every ${VAR} of FILE
placeholders() {
    for v in $(vars_of "$1"); do
        printf '%s=check-placeholder ' "$v"
    done
}

echo "deploy checks: source $ROOT, binary $BIN"

# ---- sourcegate lint: the example configuration ----
if [ -x "$BIN" ]; then
    # shellcheck disable=SC2046
    run "sourcegate lint --config deploy/sourcegate.yaml (rules/, \${VAR}s as placeholders)" \
        env $(placeholders "$D/sourcegate.yaml") "$BIN" lint --config "$D/sourcegate.yaml" --rules "$ROOT/rules"
    if grep -q "configuration OK" "$tmp/out"; then
        ok "lint says: $(cat "$tmp/out")"
    else
        fail "lint did not print 'configuration OK'"
    fi
    # the secrets really come from the environment: without them it must refuse
    if env -i PATH="$PATH" "$BIN" lint --config "$D/sourcegate.yaml" --rules "$ROOT/rules" >"$tmp/out" 2>&1; then
        fail "lint accepts deploy/sourcegate.yaml with no environment: its secrets are not \${VAR}s"
    else
        ok "without its \${VAR}s the configuration is refused ($(head -n 1 "$tmp/out"))"
    fi
else
    : >"$tmp/out"
    fail "SOURCEGATE_BIN ($BIN) is not an executable: build it first"
fi

# ---- systemd unit ----
if need systemd-analyze systemd; then
    mkdir -p "$tmp/unit"
    # a copy whose commands point at the built binary: verify checks they exist
    sed "s|/usr/local/bin/sourcegate|$BIN|g" "$D/sourcegate.service" >"$tmp/unit/sourcegate.service"
    if systemd-analyze verify --man=no "$tmp/unit/sourcegate.service" >"$tmp/out" 2>&1 &&
        ! grep -q 'sourcegate\.service' "$tmp/out"; then
        ok "systemd-analyze verify deploy/sourcegate.service (ExecStart at the built binary): no warnings"
    else
        fail "systemd-analyze verify deploy/sourcegate.service"
    fi
    if systemd-analyze security --offline=yes --threshold=20 "$tmp/unit/sourcegate.service" >"$tmp/out" 2>&1; then
        ok "systemd-analyze security --offline: $(grep -o 'Overall exposure level.*' "$tmp/out" | sed 's/ for [^:]*:/:/')"
    else
        fail "systemd-analyze security --offline --threshold=20 (exposure above 2.0)"
    fi
    : >"$tmp/out"
    missing=""
    # shellcheck disable=SC2016
    for d in 'DynamicUser=yes' 'StateDirectory=sourcegate' 'ProtectSystem=strict' 'ProtectHome=yes' \
        'PrivateTmp=yes' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=$' \
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
        'Restart=on-failure' 'ExecReload=/bin/kill -HUP \$MAINPID' \
        'ExecStartPre=/usr/local/bin/sourcegate lint --config ' 'LimitNOFILE=' 'KillSignal=SIGTERM'; do
        grep -q "^$d" "$D/sourcegate.service" || missing="$missing [$d]"
    done
    stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$D/sourcegate.service")
    if [ -z "$missing" ] && [ "${stop:-0}" -gt 20 ]; then
        ok "unit has the hardening, reload, lint and a TimeoutStopSec ($stop s) above the 10 s + 10 s drain"
    else
        fail "unit lacks:$missing; TimeoutStopSec=${stop:-unset} (needs > 20 s)"
    fi
fi

# ---- HAProxy ----
if need haproxy haproxy; then
    run "haproxy -c -f deploy/haproxy/haproxy.cfg" haproxy -c -f "$D/haproxy/haproxy.cfg"
    : >"$tmp/out"
    cfg=$D/haproxy/haproxy.cfg
    if grep -q '^ *option httpchk GET /readyz' "$cfg" && grep -q '^ *http-check expect status 200' "$cfg" &&
        grep -q '^ *balance roundrobin' "$cfg" && grep -q '^ *option redispatch' "$cfg" &&
        grep -q '^ *retries ' "$cfg"; then
        ok "haproxy backend checks /readyz, round robin, retries and redispatches"
    else
        fail "haproxy.cfg lacks httpchk GET /readyz, expect status 200, roundrobin, retries or redispatch"
    fi
fi

# ---- nginx ----
if need nginx nginx; then
    mkdir -p "$tmp/nginx"
    cat >"$tmp/nginx/nginx.conf" <<EOF
pid $tmp/nginx/nginx.pid;
error_log stderr notice;
events {}
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $D/nginx/sourcegate.conf;
}
EOF
    run "nginx -t (deploy/nginx/sourcegate.conf inside a minimal http block)" \
        nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
    : >"$tmp/out"
    if grep -q 'client_max_body_size 512k;' "$D/nginx/sourcegate.conf" &&
        grep -q 'max_fails=' "$D/nginx/sourcegate.conf" &&
        grep -q 'fail_timeout=' "$D/nginx/sourcegate.conf"; then
        ok "nginx upstream has max_fails/fail_timeout, client_max_body_size 512k"
    else
        fail "nginx/sourcegate.conf lacks max_fails, fail_timeout or client_max_body_size 512k"
    fi
fi

# ---- Prometheus ----
if need promtool prometheus; then
    run "promtool check config deploy/prometheus/prometheus.yml" \
        promtool check config "$D/prometheus/prometheus.yml"
    run "promtool check rules deploy/prometheus/alerts.yml" promtool check rules "$D/prometheus/alerts.yml"
    # the commented-out Kubernetes job, uncommented, where promtool knows it
    mkdir -p "$tmp/prom"
    cp "$D/prometheus/alerts.yml" "$tmp/prom/alerts.yml"
    sed '/begin kubernetes job/,/end kubernetes job/{/ ---- /d; s/^  # /  /; s/^  #$//;}' \
        "$D/prometheus/prometheus.yml" >"$tmp/prom/prometheus.yml"
    if promtool check config "$tmp/prom/prometheus.yml" >"$tmp/out" 2>&1; then
        ok "promtool check config with the Kubernetes job uncommented"
    elif grep -q 'kubernetes_sd_configs not found' "$tmp/out"; then
        ok "the Kubernetes job: skipped (this promtool is built without Kubernetes discovery, as Debian's)"
    else
        fail "promtool check config with the Kubernetes job uncommented"
    fi
    # the alerts fire when they should, and only then
    cat >"$tmp/prom/alerts_test.yml" <<'EOF'
rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="sourcegate",instance="a:8080"}'
        values: '1 1 0x40'
      - series: 'up{job="sourcegate",instance="b:8080"}'
        values: '1x40'
      - series: 'sourcegate_dead_letters_total{job="sourcegate",instance="a:8080"}'
        values: '0 0 0 1x40'
      - series: 'sourcegate_dead_letters_total{job="sourcegate",instance="b:8080"}'
        values: '0x40'
      - series: 'sourcegate_relay_requests_total{job="sourcegate",instance="a:8080",status="200"}'
        values: '0+60x40'
      - series: 'sourcegate_relay_requests_total{job="sourcegate",instance="a:8080",status="503"}'
        values: '0+60x40'
      - series: 'sourcegate_relay_requests_total{job="sourcegate",instance="b:8080",status="200"}'
        values: '0+600x40'
      - series: 'sourcegate_relay_requests_total{job="sourcegate",instance="b:8080",status="429"}'
        values: '0+6x40'
      - series: 'sourcegate_spool_calls{job="sourcegate",instance="a:8080"}'
        values: '200+10x40'
      - series: 'sourcegate_spool_calls{job="sourcegate",instance="b:8080"}'
        values: '0 40 3 55 0 12 0 80 1 0 30 2 0 60 5 0 10 0 90 4 0 20 0 70 2 0 15 0 50 1 0 25 0 45 3 0 35 0 65 0 0'
      - series: 'sourcegate_spool_bytes{job="sourcegate",instance="a:8080"}'
        values: '1000000x40'
      - series: 'sourcegate_requests_total{job="sourcegate",instance="a:8080",source="sendgrid",status="200"}'
        values: '0+100x40'
    alert_rule_test:
      - eval_time: 5m
        alertname: SourcegateDown
        exp_alerts:
          - exp_labels: {severity: critical, job: sourcegate, instance: "a:8080"}
            exp_annotations:
              summary: "sourcegate a:8080 is down"
              description: "Prometheus has not scraped a:8080 for 2 minutes. Its spool keeps what it acknowledged until it starts again."
      - eval_time: 5m
        alertname: SourcegateDeadLetters
        exp_alerts:
          - exp_labels: {severity: warning, job: sourcegate, instance: "a:8080"}
            exp_annotations:
              summary: "sourcegate a:8080: 1 new dead letters in 10 minutes"
              description: "Calls Segment refused were set aside. The logs name the call and Segment's reason."
      - eval_time: 30m
        alertname: SourcegateDeadLetters
        exp_alerts: []
      - eval_time: 30m
        alertname: SourcegateUpstreamErrors
        exp_alerts:
          - exp_labels: {severity: warning, job: sourcegate, instance: "a:8080"}
            exp_annotations:
              summary: "sourcegate a:8080: 50% of requests to Segment fail"
              description: "Segment answers 5xx or 429, or cannot be reached. 429s across instances mean the max_rps shares add up to more than the budget."
      - eval_time: 30m
        alertname: SourcegateSpoolGrowing
        exp_alerts:
          - exp_labels: {severity: warning, job: sourcegate, instance: "a:8080"}
            exp_annotations:
              summary: "sourcegate a:8080: the spool has kept growing for 15 minutes"
              description: "Calls are queued faster than they are relayed. Check sourcegate_relay_requests_total by status and the max_rps share of each instance."
      - eval_time: 30m
        alertname: SourcegateSpoolNearlyFull
        exp_alerts: []
      - eval_time: 30m
        alertname: SourcegateRefusingWebhooks
        exp_alerts: []
EOF
    run "promtool test rules: each alert fires on a bad instance, not on a healthy one" \
        promtool test rules "$tmp/prom/alerts_test.yml"
fi

# ---- Kubernetes manifests, Dockerfile, secrets: python3 with PyYAML ----
PY=""
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' >/dev/null 2>&1; then
        PY=$p
        break
    fi
done
if [ -z "$PY" ]; then
    : >"$tmp/out"
    fail "python3 with PyYAML not found: install the Debian package python3-yaml"
else
    "$PY" - "$ROOT" "$tmp" <<'PYEOF' || failed=1
import os
import re
import sys

import yaml

root, tmp = sys.argv[1], sys.argv[2]
deploy = os.path.join(root, "deploy")
bad = []
DRAIN_S = 10 + 10  # in-flight requests, then the relay flush
BUDGET = 50        # Segment's requests/s for a partner source


def ok(msg):
    print("ok   " + msg)


def fail(msg):
    print("FAIL " + msg)
    bad.append(msg)


def check(cond, good, wrong):
    ok(good) if cond else fail(wrong)
    return cond


def dig(d, path, default=None):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def vars_in(text):
    # ${VAR}s outside comments
    text = "\n".join(l.split("#", 1)[0] for l in text.splitlines())
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


def secrets_literal(cfg, where):
    """Secret-bearing source settings must be ${VAR}s."""
    wrong = []
    for name, s in (cfg.get("sources") or {}).items():
        for key in ("write_key", "secret", "verify_key"):
            v = (s or {}).get(key)
            if v is not None and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", str(v)):
                wrong.append("%s: sources.%s.%s" % (where, name, key))
    return wrong


# ---- the example configuration ----
with open(os.path.join(deploy, "sourcegate.yaml")) as f:
    example_text = f.read()
example = yaml.safe_load(example_text)
lit = secrets_literal(example, "deploy/sourcegate.yaml")
check(not lit, "deploy/sourcegate.yaml: write keys and secrets only as ${VAR}",
      "literal secrets: " + ", ".join(lit))

# ---- Kubernetes ----
kdir = os.path.join(deploy, "kubernetes")
KNOWN = {("apps/v1", "StatefulSet"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"),
         ("policy/v1", "PodDisruptionBudget"),
         ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
         ("monitoring.coreos.com/v1", "ServiceMonitor")}
docs = []
for fn in sorted(os.listdir(kdir)):
    if not fn.endswith((".yaml", ".yml")):
        continue
    try:
        with open(os.path.join(kdir, fn)) as f:
            for d in yaml.safe_load_all(f):
                if d is not None:
                    docs.append((fn, d))
    except yaml.YAMLError as e:
        fail("%s: not YAML: %s" % (fn, e))
ok("parsed %d Kubernetes documents in %d files" % (len(docs), len({fn for fn, _ in docs})))
for fn, d in docs:
    if not isinstance(d, dict):
        fail("%s: a document is not a mapping" % fn)
        continue
    key = (d.get("apiVersion"), d.get("kind"))
    if key not in KNOWN:
        fail("%s: unexpected apiVersion/kind %s/%s" % (fn, key[0], key[1]))
    if key[1] != "Kustomization" and not dig(d, "metadata.name"):
        fail("%s: %s without metadata.name" % (fn, key[1]))
    if key[1] not in ("Kustomization",) and "spec" not in d and key[1] not in ("ConfigMap", "Secret"):
        fail("%s: %s without spec" % (fn, key[1]))
kinds = {}
for fn, d in docs:
    if isinstance(d, dict):
        kinds.setdefault(d.get("kind"), []).append((fn, d))
for k in ("StatefulSet", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"):
    check(k in kinds, "has a %s" % k, "no %s in deploy/kubernetes" % k)
if bad:
    sys.exit(1)

sts_fn, sts = kinds["StatefulSet"][0]
check(len(kinds["StatefulSet"]) == 1, "one StatefulSet", "more than one StatefulSet")
spec = sts.get("spec", {})
tpl_labels = dig(spec, "template.metadata.labels", {}) or {}
sel = dig(spec, "selector.matchLabels", {}) or {}
check(sel and all(tpl_labels.get(k) == v for k, v in sel.items()),
      "StatefulSet selector %s matches its pod labels" % sel,
      "StatefulSet selector %s does not match the pod labels %s" % (sel, tpl_labels))


def selects_pods(selector):
    return bool(selector) and all(tpl_labels.get(k) == v for k, v in selector.items())


pod = dig(spec, "template.spec", {}) or {}
containers = pod.get("containers") or []
check(len(containers) >= 1, "the pod has a container", "the pod has no container")
c = next((x for x in containers if x.get("name") == "sourcegate"), containers[0] if containers else {})
ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
check(ports.get("http") == 8080, "container port http is 8080", "no container port named http = 8080")


def port_ok(p):
    return p in ports or p in ports.values()


for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    g = dig(c, probe + ".httpGet", {}) or {}
    check(g.get("path") == path and port_ok(g.get("port")),
          "%s: GET %s on port %s" % (probe, path, g.get("port")),
          "%s must be httpGet %s on the container port (is %s)" % (probe, path, g))
sp = dig(c, "startupProbe.httpGet")
if sp is not None:
    check(port_ok(sp.get("port")) and sp.get("path") in ("/healthz", "/readyz"),
          "startupProbe: GET %s" % sp.get("path"), "startupProbe does not probe /healthz or /readyz")

pre = dig(c, "lifecycle.preStop")
sleep_s = None
if pre is not None:
    cmd = dig(pre, "exec.command") or []
    if len(cmd) == 2 and os.path.basename(str(cmd[0])) == "sleep":
        sleep_s = float(cmd[1])
    elif dig(pre, "sleep.seconds") is not None:
        sleep_s = float(dig(pre, "sleep.seconds"))
check(sleep_s is not None and sleep_s >= 3,
      "preStop sleeps %s s so the endpoints are gone before SIGTERM" % sleep_s,
      "preStop must sleep a few seconds (exec sleep N, or sleep.seconds)")
grace = pod.get("terminationGracePeriodSeconds", 30)
check(sleep_s is not None and grace > sleep_s + DRAIN_S,
      "terminationGracePeriodSeconds %s > preStop %s + drain %s" % (grace, sleep_s, DRAIN_S),
      "terminationGracePeriodSeconds %s must exceed preStop + %s s of drain" % (grace, DRAIN_S))

psc = pod.get("securityContext") or {}
csc = c.get("securityContext") or {}
uid = csc.get("runAsUser", psc.get("runAsUser"))
check((csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True) and isinstance(uid, int) and uid > 0,
      "runs as non-root uid %s" % uid, "securityContext must set runAsNonRoot and a non-zero runAsUser")
check(csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False
      and "ALL" in (dig(csc, "capabilities.drop") or []),
      "readOnlyRootFilesystem, no privilege escalation, all capabilities dropped",
      "container securityContext needs readOnlyRootFilesystem, allowPrivilegeEscalation false, drop ALL")
check(pod.get("enableServiceLinks") is False,
      "enableServiceLinks false (no SOURCEGATE_* variables from the Service)",
      "enableServiceLinks must be false: the Service named sourcegate injects SOURCEGATE_* variables")
res = c.get("resources") or {}
check(dig(res, "requests.cpu") and dig(res, "requests.memory") and dig(res, "limits.memory"),
      "resources: requests cpu %s memory %s, limit memory %s"
      % (dig(res, "requests.cpu"), dig(res, "requests.memory"), dig(res, "limits.memory")),
      "resources need requests cpu and memory and a memory limit")

mounts = {m.get("name"): m.get("mountPath") for m in c.get("volumeMounts") or []}
vct = spec.get("volumeClaimTemplates") or []
check(bool(vct), "volumeClaimTemplates: one volume per pod", "no volumeClaimTemplates: pods would share or lose the spool")
spool_mount = None
for t in vct:
    n = dig(t, "metadata.name")
    modes = dig(t, "spec.accessModes") or []
    check(modes == ["ReadWriteOnce"] or modes == ["ReadWriteOncePod"],
          "claim %s is %s (never shared)" % (n, modes[0] if modes else "?"),
          "claim %s must be ReadWriteOnce only (a spool is never shared), is %s" % (n, modes))
    check(dig(t, "spec.resources.requests.storage"),
          "claim %s requests %s" % (n, dig(t, "spec.resources.requests.storage")),
          "claim %s requests no storage" % n)
    if n in mounts:
        spool_mount = mounts[n]
check(spool_mount is not None, "the claim is mounted at %s" % spool_mount, "no container mounts the claim")
check("/tmp" in mounts.values(), "a writable /tmp beside the read-only root",
      "readOnlyRootFilesystem needs a volume at /tmp (SQLite's temporary files)")

# --config FILE: a mounted ConfigMap key
args = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
conf_path = args[args.index("--config") + 1] if "--config" in args[:-1] else None
vols = {v.get("name"): v for v in pod.get("volumes") or []}
cms = {dig(d, "metadata.name"): d for _, d in kinds["ConfigMap"]}
conf_text = None
for n, mp in mounts.items():
    if conf_path and os.path.dirname(conf_path) == mp.rstrip("/") and n in vols:
        cm = cms.get(dig(vols[n], "configMap.name"))
        if cm:
            conf_text = (cm.get("data") or {}).get(os.path.basename(conf_path))
if check(conf_text is not None, "--config %s is a key of a mounted ConfigMap" % conf_path,
         "--config %s is not a key of a ConfigMap mounted there" % conf_path):
    conf = yaml.safe_load(conf_text)
    with open(os.path.join(tmp, "k8s-sourcegate.yaml"), "w") as f:
        f.write(conf_text)
    lit = secrets_literal(conf, "ConfigMap")
    check(not lit, "ConfigMap: write keys and secrets only as ${VAR}", "literal secrets: " + ", ".join(lit))
    spool = str(conf.get("spool", ""))
    check(spool_mount is not None and (spool == spool_mount or spool.startswith(spool_mount.rstrip("/") + "/")),
          "spool %s is on the pod's own volume" % spool,
          "spool %s is not on the claim's mount %s" % (spool, spool_mount))
    # every ${VAR} comes from env or the Secret
    env = {e.get("name") for e in c.get("env") or []}
    secret_keys = set()
    refs = [dig(e, "secretRef.name") for e in c.get("envFrom") or []]
    for _, s in kinds["Secret"]:
        if dig(s, "metadata.name") in refs:
            secret_keys |= set((s.get("stringData") or {}).keys()) | set((s.get("data") or {}).keys())
    need = vars_in(conf_text)
    missing = sorted(need - env - secret_keys)
    check(not missing, "every ${VAR} of the ConfigMap (%s) comes from env or the Secret" % ", ".join(sorted(need)),
          "${VAR}s set by neither env nor the Secret: %s" % ", ".join(missing))
    with open(os.path.join(tmp, "k8s-vars"), "w") as f:
        f.write("\n".join(sorted(need)) + "\n")
    # the upstream budget: each pod enforces its own max_rps
    rps = next((e.get("value") for e in c.get("env") or [] if e.get("name") == "SOURCEGATE_MAX_RPS"), None)
    if rps is None:
        rps = dig(conf, "upstream.max_rps", 50)
    replicas = spec.get("replicas", 1)
    check(float(rps) * replicas <= BUDGET,
          "upstream budget: %s replicas x max_rps %s = %g <= %d requests/s" % (replicas, rps, float(rps) * replicas, BUDGET),
          "%s replicas x max_rps %s exceeds Segment's %d requests/s" % (replicas, rps, BUDGET))
    ann = dig(spec, "template.metadata.annotations", {}) or {}
    if "prometheus.io/port" in ann:
        check(int(ann["prometheus.io/port"]) in ports.values(), "prometheus.io/port is the container port",
              "prometheus.io/port %s is not a container port" % ann["prometheus.io/port"])

# Services
svcs = {dig(d, "metadata.name"): d for _, d in kinds["Service"]}
headless = [n for n, s in svcs.items() if dig(s, "spec.clusterIP") == "None"]
cluster = [n for n, s in svcs.items() if dig(s, "spec.clusterIP") != "None" and dig(s, "spec.type", "ClusterIP") == "ClusterIP"]
check(spec.get("serviceName") in headless, "serviceName %s is a headless Service" % spec.get("serviceName"),
      "serviceName %s is not a headless Service (clusterIP: None)" % spec.get("serviceName"))
check(bool(cluster), "ClusterIP Service %s" % ", ".join(cluster), "no ClusterIP Service")
for n, s in svcs.items():
    check(selects_pods(dig(s, "spec.selector", {})), "Service %s selects the StatefulSet's pods" % n,
          "Service %s selector %s does not match the pods %s" % (n, dig(s, "spec.selector"), tpl_labels))
    for p in dig(s, "spec.ports", []) or []:
        check(port_ok(p.get("targetPort", p.get("port"))), "Service %s port %s -> %s" % (n, p.get("port"), p.get("targetPort")),
              "Service %s targetPort %s is not a container port" % (n, p.get("targetPort")))

# PodDisruptionBudget
for fn, pdb in kinds["PodDisruptionBudget"]:
    psel = dig(pdb, "spec.selector.matchLabels", {}) or {}
    check(psel == sel, "PodDisruptionBudget selector equals the StatefulSet's %s" % psel,
          "PodDisruptionBudget selector %s differs from the StatefulSet's %s" % (psel, sel))
    check(dig(pdb, "spec.maxUnavailable") == 1, "PodDisruptionBudget maxUnavailable 1",
          "PodDisruptionBudget maxUnavailable is %s, not 1" % dig(pdb, "spec.maxUnavailable"))

# kustomization
for fn, k in kinds.get("Kustomization", []):
    res = k.get("resources") or []
    missing = [r for r in res if not os.path.exists(os.path.join(kdir, r))]
    check(not missing, "kustomization lists %d existing files" % len(res), "kustomization lists missing files %s" % missing)
    check(not any("secret" in r for r in res), "kustomization leaves the example Secret out",
          "kustomization applies the example Secret's placeholders")

# ---- Dockerfile ----
with open(os.path.join(deploy, "Dockerfile")) as f:
    lines = f.read().splitlines()
instr = []  # (keyword, text) with continuations joined, comments dropped
cur = ""
for l in lines:
    if not cur and (not l.strip() or l.lstrip().startswith("#")):
        continue
    if cur and l.lstrip().startswith("#"):
        continue
    cur += (" " if cur else "") + l.strip()
    if cur.endswith("\\"):
        cur = cur[:-1].rstrip()
        continue
    kw, _, rest = cur.partition(" ")
    instr.append((kw.upper(), rest))
    cur = ""
by = {}
for kw, rest in instr:
    by.setdefault(kw, []).append(rest)
args_d = {}
for kw, rest in instr:
    if kw == "ARG" and "=" in rest:
        k, v = rest.split("=", 1)
        args_d.setdefault(k, v.strip('"'))
froms = [re.sub(r"\$\{(\w+)\}", lambda m: args_d.get(m.group(1), m.group(0)), f) for f in by.get("FROM", [])]
check(len(froms) >= 2 and all("bookworm" in f or "debian:12" in f for f in froms),
      "Dockerfile: %d stages on Debian 12 (%s)" % (len(froms), froms[0].split()[0] if froms else "?"),
      "Dockerfile must be multi-stage on debian bookworm: %s" % froms)
check(any("meson setup" in r and "meson compile" in r for r in by.get("RUN", [])),
      "Dockerfile builds with meson", "Dockerfile has no meson setup / compile step")
users = by.get("USER", [])
u = users[-1].split(":")[0] if users else "root"
u = re.sub(r"\$\{(\w+)\}", lambda m: args_d.get(m.group(1), m.group(0)), u)
check(u.isdigit() and int(u) > 0, "Dockerfile runs as uid %s" % u, "Dockerfile's last USER must be a fixed non-zero uid (is %s)" % u)
if spec and u.isdigit():
    check(uid == int(u), "the StatefulSet's runAsUser %s is the image's uid" % uid,
          "the StatefulSet's runAsUser %s differs from the image's uid %s" % (uid, u))
check("8080" in " ".join(by.get("EXPOSE", [])), "Dockerfile EXPOSE 8080", "Dockerfile does not EXPOSE 8080")
check(any("/healthz" in h for h in by.get("HEALTHCHECK", [])), "Dockerfile HEALTHCHECK on /healthz", "no HEALTHCHECK on /healthz")
check(by.get("STOPSIGNAL") == ["SIGTERM"], "Dockerfile STOPSIGNAL SIGTERM", "STOPSIGNAL must be SIGTERM")
check(any("/var/lib/sourcegate" in v for v in by.get("VOLUME", [])), "Dockerfile VOLUME for the spool",
      "no VOLUME /var/lib/sourcegate")
lint = [r for r in by.get("RUN", []) if "sourcegate lint --config /etc/sourcegate/sourcegate.yaml" in r]
if check(bool(lint), "Dockerfile lints /etc/sourcegate/sourcegate.yaml at build time",
         "Dockerfile does not run sourcegate lint --config /etc/sourcegate/sourcegate.yaml"):
    unset = sorted(v for v in vars_in(example_text) if not re.search(r"\b%s=" % v, lint[0]))
    check(not unset, "the build-time lint sets every ${VAR} of deploy/sourcegate.yaml",
          "the build-time lint leaves unset (the image build would fail): %s" % ", ".join(unset))
    copies = [r for r in by.get("COPY", []) if "/etc/sourcegate/sourcegate.yaml" in r]
    check(any(r.split()[0] == "deploy/sourcegate.yaml" for r in copies),
          "the image ships deploy/sourcegate.yaml", "the image does not copy deploy/sourcegate.yaml")
for r in by.get("COPY", []):
    parts = [p for p in r.split() if not p.startswith("--")]
    if r.startswith("--from"):
        continue
    missing = [p for p in parts[:-1] if not os.path.exists(os.path.join(root, p))]
    check(not missing, "COPY %s: in the build context" % " ".join(parts[:-1]),
          "COPY of paths not in the repository: %s" % missing)
runtime_run = " ".join(r for r in by.get("RUN", []) if "libmicrohttpd12" in r)
need_pkgs = ["libmicrohttpd12", "libcurl4", "libjson-c5", "libyaml-0-2", "libssl3", "libsqlite3-0", "ca-certificates"]
missing = [p for p in need_pkgs if p not in runtime_run.split()]
check(not missing, "runtime stage installs %s" % " ".join(need_pkgs), "runtime stage lacks %s" % missing)

sys.exit(1 if bad else 0)
PYEOF
    # the ConfigMap's configuration lints too
    if [ -x "$BIN" ] && [ -f "$tmp/k8s-sourcegate.yaml" ]; then
        # shellcheck disable=SC2046
        run "sourcegate lint --config <the ConfigMap's sourcegate.yaml>" \
            env $(placeholders "$tmp/k8s-sourcegate.yaml") "$BIN" lint --config "$tmp/k8s-sourcegate.yaml" --rules "$ROOT/rules"
    fi
fi

# ---- hadolint, where it exists (Debian has no package) ----
if command -v hadolint >/dev/null 2>&1; then
    run "hadolint deploy/Dockerfile" hadolint "$D/Dockerfile"
else
    echo "skip hadolint deploy/Dockerfile (hadolint not installed; Debian 12 does not package it)"
fi

if [ "$failed" -ne 0 ]; then
    echo "deploy checks FAILED"
    exit 1
fi
echo "deploy checks passed"
