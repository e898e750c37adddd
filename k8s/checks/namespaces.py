#!/usr/bin/env python3
"""Prints the namespaces the objects of a rendered manifest live in (one per line)."""

import sys

import yaml

with open(sys.argv[1]) as handle:
    names = {d["metadata"]["namespace"] for d in yaml.safe_load_all(handle) if d and d["metadata"].get("namespace")}
print("\n".join(sorted(names)))
