"""Checks the custom resources that kubernetes-validate has no schema for, against the fields their
operators require (Prometheus Operator: ServiceMonitor, PrometheusRule; CloudNativePG: Cluster), and
that each ServiceMonitor scrapes a rendered Service by a port that Service has.

Usage: python crds.py RENDERED.yaml ...   Exits 1 with every problem found.
"""

import re
import sys

import jsonschema
import yaml

DURATION = r"^([0-9]+(ms|s|m|h|d|w|y))+$"

SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["selector", "endpoints"],
                "additionalProperties": False,
                "properties": {
                    "selector": {"type": "object", "properties": {"matchLabels": {"type": "object"}}},
                    "namespaceSelector": {"type": "object"},
                    "jobLabel": {"type": "string"},
                    "endpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "port": {"type": "string"},
                                "path": {"type": "string", "pattern": "^/"},
                                "interval": {"type": "string", "pattern": DURATION},
                                "scrapeTimeout": {"type": "string", "pattern": DURATION},
                                "scheme": {"enum": ["http", "https"]},
                            },
                            "required": ["port"],
                        },
                    },
                },
            }
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["groups"],
                "additionalProperties": False,
                "properties": {
                    "groups": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name", "rules"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "interval": {"type": "string", "pattern": DURATION},
                                "rules": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["expr"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                            "record": {"type": "string"},
                                            "expr": {"type": "string", "minLength": 1},
                                            "for": {"type": "string", "pattern": DURATION},
                                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                                        },
                                        "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                                    },
                                },
                            },
                        },
                    }
                },
            }
        },
    },
    ("postgresql.cnpg.io/v1", "Cluster"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["instances", "storage"],
                "properties": {
                    "instances": {"type": "integer", "minimum": 1},
                    "imageName": {"type": "string", "pattern": ":[0-9]"},
                    "storage": {
                        "type": "object",
                        "required": ["size"],
                        "properties": {"size": {"type": "string", "pattern": "^[0-9]+(Mi|Gi|Ti)$"}, "storageClass": {"type": "string"}},
                    },
                    "bootstrap": {
                        "type": "object",
                        "properties": {
                            "initdb": {
                                "type": "object",
                                "required": ["database", "owner"],
                                "properties": {"database": {"type": "string"}, "owner": {"type": "string"}},
                            }
                        },
                    },
                    "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
                    "affinity": {"type": "object"},
                    "monitoring": {"type": "object"},
                    "postgresql": {"type": "object"},
                    "resources": {"type": "object"},
                    "walStorage": {"type": "object"},
                },
            }
        },
    },
}


def balanced(expr):
    """PromQL's brackets must balance (no PromQL parser is on PyPI; Prometheus rejects the rest at load)."""
    depth = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    for char in re.sub(r'"[^"]*"', "", expr):
        if char in depth:
            depth[char] += 1
        elif char in closing:
            depth[closing[char]] -= 1
            if depth[closing[char]] < 0:
                return False
    return all(value == 0 for value in depth.values())


def main(paths):
    problems = []
    checked = 0
    for path in paths:
        with open(path) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d]
        services = [d for d in documents if d["kind"] == "Service"]
        for obj in documents:
            schema = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
            if schema is None:
                if obj["kind"] in {"ServiceMonitor", "PrometheusRule", "Cluster"}:
                    problems.append(f"{path}: {obj['kind']} has an unexpected apiVersion {obj['apiVersion']}")
                continue
            checked += 1
            name = f"{path}: {obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
            for error in jsonschema.Draft7Validator(schema).iter_errors(obj):
                problems.append(f"{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}")
            if obj["kind"] == "PrometheusRule":
                alerts = [r["alert"] for g in obj["spec"]["groups"] for r in g["rules"] if "alert" in r]
                if len(alerts) != len(set(alerts)):
                    problems.append(f"{name}: alert names repeat")
                for group in obj["spec"]["groups"]:
                    for rule in group["rules"]:
                        if not balanced(rule["expr"]):
                            problems.append(f"{name}: unbalanced brackets in {rule.get('alert', rule.get('record'))}")
            if obj["kind"] == "ServiceMonitor":
                wanted = obj["spec"]["selector"].get("matchLabels", {})
                scraped = [
                    s for s in services
                    if s["metadata"].get("namespace") == obj["metadata"].get("namespace")
                    and all(s["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
                ]
                if not scraped:
                    problems.append(f"{name}: selects no rendered Service")
                for endpoint in obj["spec"]["endpoints"]:
                    for service in scraped:
                        if endpoint["port"] not in {p.get("name") for p in service["spec"]["ports"]}:
                            problems.append(f"{name}: port {endpoint['port']!r} is not a port of Service {service['metadata']['name']}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"custom resources: {checked} checked against their operators' required fields")


if __name__ == "__main__":
    main(sys.argv[1:])
