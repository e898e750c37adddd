"""What no schema or policy tool checks in the rendered manifests: that the parts refer to each other.

- every Service, PodDisruptionBudget and NetworkPolicy selector selects at least one pod template of
  its namespace, and every workload's selector matches its own template's labels;
- every named port a Service, probe or NetworkPolicy uses is declared by the containers it points at;
- every probe's numeric port is a declared container port;
- every Secret and ConfigMap a workload references is rendered with it (except Secrets an operator
  makes: CloudNativePG's `<cluster>-app`);
- every Ingress backend names a Service of its namespace and one of that Service's ports.

Usage: python consistency.py RENDERED.yaml ...   Exits 1 with every problem found.
"""

import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def matches(selector, labels):
    """Whether a Service selector (a plain map) or a LabelSelector (`matchLabels`) selects `labels`."""
    if not selector or "matchExpressions" in selector:
        return False  # empty or expression selectors are not used by these manifests: refuse, not guess
    wanted = selector.get("matchLabels") if "matchLabels" in selector else selector
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def pod_template(obj):
    spec = obj.get("spec", {})
    return spec.get("template", {}) if obj["kind"] in WORKLOADS else None


def containers(template):
    spec = template.get("spec", {})
    return spec.get("containers", []) + spec.get("initContainers", [])


def check(documents, source):
    problems = []
    by_namespace = {}
    for obj in documents:
        namespace = obj.get("metadata", {}).get("namespace", "")
        by_namespace.setdefault(namespace, []).append(obj)

    for namespace, objects in by_namespace.items():
        templates = [(o, pod_template(o)) for o in objects if pod_template(o) is not None]
        names = {(o["kind"], o["metadata"]["name"]) for o in objects}
        clusters = {o["metadata"]["name"] for o in objects if o["kind"] == "Cluster"}
        services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}

        def where(obj):
            return f"{source}: {obj['kind']} {namespace}/{obj['metadata']['name']}"

        for workload, template in templates:
            labels = template.get("metadata", {}).get("labels", {})
            selector = workload["spec"].get("selector")
            if workload["kind"] != "Job" and not matches(selector, labels):
                problems.append(f"{where(workload)}: selector {selector} does not match its template's labels {labels}")
            ports = {p.get("name"): p["containerPort"] for c in containers(template) for p in c.get("ports", [])}
            for container in containers(template):
                for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
                    probe = container.get(probe_name)
                    if not probe:
                        continue
                    action = probe.get("httpGet") or probe.get("tcpSocket")
                    if not action:
                        continue
                    port = action.get("port")
                    if isinstance(port, str) and port not in ports:
                        problems.append(f"{where(workload)}: {probe_name} uses port {port!r}, not declared")
                    if isinstance(port, int) and port not in ports.values():
                        problems.append(f"{where(workload)}: {probe_name} uses port {port}, not a container port")
                refs = []
                for env in container.get("env", []):
                    source_ref = env.get("valueFrom", {})
                    if "secretKeyRef" in source_ref:
                        refs.append(("Secret", source_ref["secretKeyRef"]["name"]))
                    if "configMapKeyRef" in source_ref:
                        refs.append(("ConfigMap", source_ref["configMapKeyRef"]["name"]))
                for env_from in container.get("envFrom", []):
                    if "configMapRef" in env_from:
                        refs.append(("ConfigMap", env_from["configMapRef"]["name"]))
                    if "secretRef" in env_from:
                        refs.append(("Secret", env_from["secretRef"]["name"]))
                for kind, name in refs:
                    operator_made = kind == "Secret" and name.endswith("-app") and name[: -len("-app")] in clusters
                    if (kind, name) not in names and not operator_made:
                        problems.append(f"{where(workload)}: references {kind} {name!r}, which is not rendered")

        def selected(selector):
            return [(w, t) for w, t in templates if matches(selector, t.get("metadata", {}).get("labels", {}))]

        for obj in objects:
            kind = obj["kind"]
            if kind == "Service":
                chosen = selected(obj["spec"].get("selector", {}))
                if not chosen:
                    problems.append(f"{where(obj)}: selects no pod template")
                for port in obj["spec"].get("ports", []):
                    target = port.get("targetPort", port.get("port"))
                    for workload, template in chosen:
                        declared = {p.get("name"): p["containerPort"] for c in containers(template) for p in c.get("ports", [])}
                        if (isinstance(target, str) and target not in declared) or (
                            isinstance(target, int) and target not in declared.values()
                        ):
                            problems.append(f"{where(obj)}: targetPort {target!r} is not a port of {workload['metadata']['name']}")
            elif kind == "PodDisruptionBudget":
                if not selected(obj["spec"].get("selector", {})):
                    problems.append(f"{where(obj)}: selects no pod template")
            elif kind == "NetworkPolicy":
                chosen = selected(obj["spec"].get("podSelector", {}))
                if not chosen:
                    problems.append(f"{where(obj)}: selects no pod template")
                for rule in obj["spec"].get("ingress", []):
                    for port in rule.get("ports", []):
                        value = port.get("port")
                        for workload, template in chosen:
                            declared = {p.get("name"): p["containerPort"] for c in containers(template) for p in c.get("ports", [])}
                            if isinstance(value, str) and value not in declared:
                                problems.append(f"{where(obj)}: ingress port {value!r} is not a port of {workload['metadata']['name']}")
            elif kind == "Ingress":
                for rule in obj["spec"].get("rules", []):
                    for path in rule.get("http", {}).get("paths", []):
                        backend = path["backend"]["service"]
                        service = services.get(backend["name"])
                        if service is None:
                            problems.append(f"{where(obj)}: backend Service {backend['name']!r} is not rendered")
                            continue
                        port = backend["port"]
                        port_names = {p.get("name") for p in service["spec"]["ports"]}
                        port_numbers = {p["port"] for p in service["spec"]["ports"]}
                        if port.get("name") not in port_names and port.get("number") not in port_numbers:
                            problems.append(f"{where(obj)}: backend port {port} is not a port of Service {backend['name']}")
    return problems


def main(paths):
    problems = []
    for path in paths:
        with open(path) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d]
        problems += check(documents, path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"consistency: {len(paths)} rendered files, no dangling selector, port or reference")


if __name__ == "__main__":
    main(sys.argv[1:])
