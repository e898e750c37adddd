"""Checks that every alert is operable: it has a severity that routes (critical pages, warning goes to
the team's channel), a runbook_url to its own section of docs/RUNBOOK.md, and a promtool test in
which it fires; and that the runbook has one section per alert, in the rule file's order, each with
exactly its three parts (what it means, what to check, what to do).

Usage: python alerts.py [REPOSITORY]   (default: the repository this file is in). Exits 1 with every
problem found.
"""

import re
import sys
from pathlib import Path

import yaml

RULES = "k8s/monitoring/prometheusrule.yaml"
RUNBOOK = "docs/RUNBOOK.md"
TESTS = "k8s/monitoring/tests"
SEVERITIES = ("critical", "warning")
RUNBOOK_URL = "https://git.example.com/taxi-dispatch/blob/main/docs/RUNBOOK.md#"
PARTS = ["What it means.", "What to check.", "What to do."]


def github_anchor(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def alerts(path):
    """The alerting rules of the PrometheusRule, in file order."""
    with open(path) as handle:
        document = yaml.safe_load(handle)
    return [rule for group in document["spec"]["groups"] for rule in group["rules"] if "alert" in rule]


def sections(path):
    """The runbook's `## ` sections, in order: (heading, anchor, the bold part names in the section).
    Anchors are numbered as GitHub numbers repeated ones, over the headings of every level."""
    found, seen, fenced = [], {}, False
    for line in Path(path).read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = re.match(r"(#{1,6}) +(.*?) *#* *$", line)
        if heading:
            anchor = github_anchor(heading.group(2))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            if heading.group(1) == "##":
                found.append((heading.group(2), anchor if count == 0 else f"{anchor}-{count}", []))
            continue
        part = re.match(r"\*\*(What [^*]+)\*\*", line)
        if part and found:
            found[-1][2].append(part.group(1))
    return found


def tested(directory):
    """Alert names with at least one promtool test case that expects them to fire."""
    names = set()
    for path in sorted(Path(directory).glob("*.test.yaml")):
        with open(path) as handle:
            document = yaml.safe_load(handle) or {}
        for test in document.get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                if case.get("exp_alerts"):
                    names.add(case.get("alertname"))
    return names


def check(root):
    problems = []
    rules = alerts(root / RULES)
    names = [rule["alert"] for rule in rules]
    runbook = sections(root / RUNBOOK)
    anchors = {anchor: heading for heading, anchor, _ in runbook}
    fires = tested(root / TESTS)
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{RULES}: alert {name} is defined more than once")
    for rule in rules:
        name = rule["alert"]
        where = f"{RULES}: alert {name}"
        severity = (rule.get("labels") or {}).get("severity")
        if severity not in SEVERITIES:
            problems.append(f"{where}: severity is {severity!r}, not one of {', '.join(SEVERITIES)}")
        url = (rule.get("annotations") or {}).get("runbook_url")
        if not url:
            problems.append(f"{where}: no runbook_url annotation")
        elif not url.startswith(RUNBOOK_URL):
            problems.append(f"{where}: runbook_url {url} does not start with {RUNBOOK_URL}")
        else:
            anchor = url[len(RUNBOOK_URL):]
            if anchor != github_anchor(name):
                problems.append(f"{where}: runbook_url's anchor #{anchor} is not #{github_anchor(name)} (its own section)")
            elif anchors.get(anchor) != name:
                problems.append(f"{where}: runbook_url's anchor #{anchor} matches no `## {name}` heading in {RUNBOOK}")
        if name not in fires:
            problems.append(f"{where}: no promtool test in {TESTS}/*.test.yaml expects it to fire (non-empty exp_alerts)")
    headings = [heading for heading, _, _ in runbook]
    for heading, _, parts in runbook:
        if heading not in names:
            problems.append(f"{RUNBOOK}: section `## {heading}` is not an alert of {RULES}")
        elif parts != PARTS:
            problems.append(f"{RUNBOOK}: section `## {heading}` has parts {parts}, not exactly {PARTS} in that order")
    if [h for h in headings if h in names] != [n for n in names if n in headings]:
        problems.append(f"{RUNBOOK}: sections are not in the order of the alerts in {RULES}")
    return problems, len(names), len(runbook)


def main(arguments):
    root = Path(arguments[0]) if arguments else Path(__file__).resolve().parents[2]
    problems, alert_count, section_count = check(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"alerts: {alert_count} alerts, each with a severity, a runbook section ({section_count}) and a test that fires it")


if __name__ == "__main__":
    main(sys.argv[1:])
