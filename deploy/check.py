#!/usr/bin/env python3
"""Lints deploy/: the Kubernetes manifests, the systemd unit and the compose file.

    python3 deploy/check.py [--wirewatch PATH]

Needs Python 3.11 and PyYAML. Each of these runs when its tool is there and
is reported as skipped otherwise:

- `kubectl kustomize deploy/k8s` renders the manifests (without kubectl the
  ConfigMap is built here from the kustomization's file list);
- kubernetes-validate (pip) checks every object against the API schemas, in
  strict mode (unknown fields are errors);
- `systemd-analyze verify` on the unit, with ExecStart pointed at the
  wirewatch binary given or found (it insists that the program exists);
- `docker compose config --quiet` on the compose file (which is parsed
  here in any case: the wirewatch services are read-only, capabilities
  dropped).

The structure checks always run: every workload has probes on /healthz and
/readyz at the port metrics.listen names, requests and limits, a non-root
read-only securityContext with every capability dropped, the config mounted
where --config points, state_dir writable; each stage of `--stages` runs in
exactly one workload; the fetcher's state is on a volume claim; the
NetworkPolicy keeps the web-facing stages off the private ranges. Exits 1
with one line per problem. tests/deploy.rs checks the ConfigMap's TOML with
the real config loader.
"""

import argparse
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

import yaml

DEPLOY = os.path.dirname(os.path.abspath(__file__))
K8S = os.path.join(DEPLOY, "k8s")
REPO = os.path.dirname(DEPLOY)
STAGES = {"fetch", "clean", "classify"}
# Stages that make HTTP requests to the outside (the clean stage fetches
# article pages).
WEB_STAGES = {"fetch", "clean"}
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                  "100.64.0.0/10", "127.0.0.0/8", "fc00::/7", "fe80::/10"]

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def render():
    """The objects `kubectl apply -k deploy/k8s` would send."""
    if shutil.which("kubectl"):
        rendered = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True)
        if rendered.returncode != 0:
            problem("deploy/k8s", f"kubectl kustomize failed: {rendered.stderr.strip()}")
            return []
        print("ok: kubectl kustomize deploy/k8s")
        return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    print("skipped: kubectl kustomize (no kubectl); rendering the ConfigMap here")
    with open(os.path.join(K8S, "kustomization.yaml")) as file:
        kustomization = yaml.safe_load(file)
    objects = []
    for resource in kustomization["resources"]:
        with open(os.path.join(K8S, resource)) as file:
            objects += [doc for doc in yaml.safe_load_all(file) if doc]
    for generator in kustomization.get("configMapGenerator", []):
        data = {}
        for name in generator["files"]:
            with open(os.path.join(K8S, name)) as file:
                data[name] = file.read()
        objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": generator["name"]}, "data": data})
    return objects


def generated_name(objects, base):
    """kustomize appends a content hash to generated ConfigMap names."""
    for obj in objects:
        name = obj["metadata"]["name"]
        if obj["kind"] == "ConfigMap" and (name == base or name.startswith(base + "-")):
            return obj
    return None


def check_yaml_files():
    with open(os.path.join(K8S, "kustomization.yaml")) as file:
        kustomization = yaml.safe_load(file)
    listed = set(kustomization["resources"])
    for name in sorted(os.listdir(K8S)):
        if not name.endswith(".yaml") or name == "kustomization.yaml":
            continue
        with open(os.path.join(K8S, name)) as file:
            try:
                list(yaml.safe_load_all(file))
            except yaml.YAMLError as error:
                problem(f"deploy/k8s/{name}", f"not YAML: {error}")
        if name not in listed:
            problem(f"deploy/k8s/{name}", "not listed in kustomization.yaml resources")


def check_workload(obj, config_map, config):
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    pod = obj["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    listen_port = int(config["metrics"]["listen"].rsplit(":", 1)[1])
    pod_security = pod.get("securityContext", {})
    if pod_security.get("runAsNonRoot") is not True:
        problem(where, "pod securityContext.runAsNonRoot is not true")
    if not isinstance(pod_security.get("runAsUser"), int) or pod_security["runAsUser"] == 0:
        problem(where, "pod securityContext.runAsUser is not a non-zero number")
    if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problem(where, "pod seccompProfile is not RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        problem(where, "automountServiceAccountToken is not false (no stage talks to the API)")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    shutdown = parse_seconds(config.get("bus", {}).get("kafka", {}).get("shutdown_timeout", "30s"))
    if grace <= shutdown:
        problem(where, f"terminationGracePeriodSeconds {grace} is not above shutdown_timeout {shutdown} s")

    stages = []
    for container in pod.get("initContainers", []) + pod["containers"]:
        cwhere = f"{where} container {container['name']}"
        security = container.get("securityContext", {})
        if security.get("readOnlyRootFilesystem") is not True:
            problem(cwhere, "readOnlyRootFilesystem is not true")
        if security.get("allowPrivilegeEscalation") is not False:
            problem(cwhere, "allowPrivilegeEscalation is not false")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            problem(cwhere, "capabilities.drop is not [ALL]")
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(kind, {}):
                    problem(cwhere, f"no resources.{kind}.{resource}")
        args = container.get("args", [])
        config_path = args[args.index("--config") + 1] if "--config" in args else None
        if config_path is None:
            problem(cwhere, "no --config")
            continue
        mounted = [mount for mount in container.get("volumeMounts", [])
                   if config_path.startswith(mount["mountPath"].rstrip("/") + "/")]
        if not mounted or volumes.get(mounted[0]["name"], {}).get("configMap", {}).get("name") != config_map["metadata"]["name"]:
            problem(cwhere, f"{config_path} is not in the generated ConfigMap's volume")
        elif os.path.basename(config_path) not in config_map["data"]:
            problem(cwhere, f"the ConfigMap has no {os.path.basename(config_path)}")
        if args[:1] != ["run"]:
            continue
        stage = args[args.index("--stages") + 1] if "--stages" in args else ""
        if stage not in STAGES:
            problem(cwhere, f"--stages {stage!r} is not one of {sorted(STAGES)}")
        stages.append(stage)
        ports = {port.get("name"): port["containerPort"] for port in container.get("ports", [])}
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container.get(probe, {}).get("httpGet", {})
            port = ports.get(get.get("port"), get.get("port"))
            if get.get("path") != path or port != listen_port:
                problem(cwhere, f"{probe} is not GET {path} on metrics.listen's port {listen_port}")
        state_dir = config.get("state_dir")
        state_mounts = [mount for mount in container.get("volumeMounts", [])
                        if mount["mountPath"].rstrip("/") == state_dir and not mount.get("readOnly")]
        if not state_mounts:
            problem(cwhere, f"state_dir {state_dir} is not a writable mount (the root filesystem is read-only)")
        elif stage == "fetch":
            claims = {claim["metadata"]["name"] for claim in obj["spec"].get("volumeClaimTemplates", [])}
            if obj["kind"] != "StatefulSet" or state_mounts[0]["name"] not in claims:
                problem(cwhere, "the fetcher's state_dir is not on a StatefulSet's volume claim")
            if obj["spec"].get("replicas", 1) != 1:
                problem(cwhere, "more than one fetcher would poll every feed twice")
        elif stage in ("clean", "classify"):
            env = {var["name"]: var for var in container.get("env", [])}
            source = env.get("WIREWATCH_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
            if source.get("fieldPath") != "metadata.name":
                problem(cwhere, "WIREWATCH_INSTANCE_ID is not the pod's name (static membership)")
    return stages


def parse_seconds(duration):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for unit in ("ms", "s", "m", "h", "d"):
        if duration.endswith(unit) and duration[: -len(unit)].isdigit():
            return int(duration[: -len(unit)]) * units[unit]
    raise ValueError(f"duration {duration!r}")


def selected_stages(policy):
    selector = policy["spec"]["podSelector"]
    stages = set(STAGES)
    component = selector.get("matchLabels", {}).get("app.kubernetes.io/component")
    if component:
        stages &= {component}
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == "app.kubernetes.io/component" and expression["operator"] == "In":
            stages &= set(expression["values"])
    return stages


def check_network_policies(objects):
    policies = [obj for obj in objects if obj["kind"] == "NetworkPolicy"]
    for stage in STAGES:
        egress = [policy for policy in policies if stage in selected_stages(policy)
                  and "Egress" in policy["spec"].get("policyTypes", [])]
        if not egress:
            problem("NetworkPolicy", f"no egress policy selects the {stage} stage")
        for policy in egress:
            for rule in policy["spec"].get("egress", []):
                for peer in rule.get("to", []):
                    block = peer.get("ipBlock")
                    if not block:
                        continue
                    if stage not in WEB_STAGES:
                        problem(policy["metadata"]["name"], f"the {stage} stage needs no ipBlock")
                    cidr = ipaddress.ip_network(block["cidr"])
                    excepted = [ipaddress.ip_network(net) for net in block.get("except", [])]
                    for private in map(ipaddress.ip_network, PRIVATE_RANGES):
                        if private.version == cidr.version and private.overlaps(cidr) and not any(
                                private.subnet_of(net) for net in excepted if net.version == private.version):
                            problem(policy["metadata"]["name"], f"{stage} may reach {private}")


def check_schemas(objects):
    try:
        import kubernetes_validate
    except ImportError:
        print("skipped: kubernetes-validate (pip install kubernetes-validate)")
        return
    version = kubernetes_validate.latest_version()
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problem(f"{obj['kind']}/{obj['metadata']['name']}", f"schema {version}: {error.message}")
    print(f"ok: kubernetes-validate --strict, Kubernetes {version}, {len(objects)} objects")


def check_systemd(wirewatch):
    if not shutil.which("systemd-analyze"):
        print("skipped: systemd-analyze verify (no systemd-analyze)")
        return
    if not wirewatch:
        print("skipped: systemd-analyze verify (no wirewatch binary: --wirewatch PATH)")
        return
    with open(os.path.join(DEPLOY, "wirewatch.service")) as file:
        unit = file.read().replace("/usr/local/bin/wirewatch", os.path.abspath(wirewatch))
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "wirewatch.service")
        with open(path, "w") as file:
            file.write(unit)
        verified = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True)
    # Messages about other units on this machine are not ours.
    ours = [line for line in (verified.stdout + verified.stderr).splitlines() if "wirewatch.service" in line]
    if verified.returncode != 0 or ours:
        for line in ours or [verified.stderr.strip()]:
            problem("deploy/wirewatch.service", line)
    else:
        print("ok: systemd-analyze verify deploy/wirewatch.service")


def check_compose():
    where = "deploy/docker-compose.yml"
    with open(os.path.join(DEPLOY, "docker-compose.yml")) as file:
        services = yaml.safe_load(file)["services"]
    for name, service in services.items():
        if service.get("image", "").startswith("wirewatch"):
            if service.get("read_only") is not True or service.get("cap_drop") != ["ALL"]:
                problem(where, f"service {name} is not read_only with cap_drop [ALL]")
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True) if shutil.which("docker") else None
    if not compose or compose.returncode != 0:
        print("skipped: docker compose config (no docker compose)")
        return
    checked = subprocess.run(["docker", "compose", "-f", os.path.join(DEPLOY, "docker-compose.yml"),
                              "config", "--quiet"], capture_output=True, text=True)
    if checked.returncode != 0:
        problem(where, checked.stderr.strip())
    else:
        print("ok: docker compose config deploy/docker-compose.yml")


def main():
    parser = argparse.ArgumentParser(description="lints deploy/")
    parser.add_argument("--wirewatch", help="the wirewatch binary (for systemd-analyze verify)")
    arguments = parser.parse_args()
    wirewatch = arguments.wirewatch
    if not wirewatch:
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
        for profile in ("debug", "release"):
            candidate = os.path.join(target, profile, "wirewatch")
            if os.access(candidate, os.X_OK):
                wirewatch = candidate
                break

    check_yaml_files()
    objects = render()
    config_map = generated_name(objects, "wirewatch-config")
    if config_map is None:
        problem("deploy/k8s", "no ConfigMap wirewatch-config")
    else:
        config = tomllib.loads(config_map["data"]["wirewatch.toml"])
        if config.get("bus", {}).get("kind") != "kafka":
            problem("deploy/k8s/wirewatch.toml", "bus.kind is not \"kafka\" (--stages needs it)")
        stages = []
        for obj in objects:
            if obj["kind"] in ("Deployment", "StatefulSet"):
                stages += check_workload(obj, config_map, config)
        for stage in STAGES:
            if stages.count(stage) != 1:
                problem("deploy/k8s", f"the {stage} stage runs in {stages.count(stage)} workloads, not 1")
        print(f"ok: structure of {len(objects)} objects" if not problems else "structure: problems below")
    check_network_policies(objects)
    check_schemas(objects)
    check_systemd(wirewatch)
    check_compose()
    for line in problems:
        print(line, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
