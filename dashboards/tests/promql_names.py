"""The PromQL of dashboards/ (Grafana panels and variables, Prometheus rules) and the metric
names it reads. Used by test_queries.py; run alone it prints every expression and its names."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARDS = os.path.dirname(HERE)

# What Grafana substitutes before Prometheus sees a query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                     "$instance": ".*", "${instance}": ".*"}

FUNCTIONS = set("""abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min
count_over_time day_of_month day_of_week day_of_year days_in_month delta deriv exp floor
histogram_quantile holt_winters hour idelta increase irate label_join label_replace last_over_time
ln log10 log2 max_over_time min_over_time minute month predict_linear present_over_time
quantile_over_time rate resets round scalar sgn sort sort_desc sqrt stddev_over_time
stdvar_over_time sum_over_time time timestamp vector year""".split())
AGGREGATIONS = set("sum min max avg group stddev stdvar count count_values bottomk topk quantile".split())
KEYWORDS = set("by without on ignoring group_left group_right bool and or unless offset inf nan".split())


def rules():
    """(where, expr, recorded name or None) of every rule in dashboards/*.yml rule files."""
    out = []
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "*rules*.yml"))):
        with open(path) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                out.append((f"{os.path.basename(path)}: {name}", rule["expr"], rule.get("record")))
    return out


def dashboard_queries():
    """(where, expr) of every panel target and query variable of dashboards/grafana/*.json."""
    out = []
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "grafana", "*.json"))):
        with open(path) as f:
            d = json.load(f)
        base = os.path.basename(path)
        for p in d["panels"]:
            for t in p.get("targets", []):
                out.append((f"{base}: panel '{p['title']}'", t["expr"]))
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q.strip())
                out.append((f"{base}: variable {v['name']}", m.group(1) if m else q))
    return out


def substitute(expr):
    for k, v in GRAFANA_VARIABLES.items():
        expr = expr.replace(k, v)
    return expr


def metric_names(expr):
    """The metric names an expression selects (identifiers that are not functions, aggregations,
    keywords, label names or durations)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges and subqueries
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", e):
        word = m.group(1)
        after = e[m.end():].lstrip()
        if word in FUNCTIONS or word in AGGREGATIONS or word in KEYWORDS:
            continue
        if after.startswith("(") and word not in names:  # an unknown function
            continue
        names.add(word)
    return names


def check_syntax(exprs):
    """Runs promtool over every expression (as recording rules); returns promtool's complaint or
    None."""
    doc = {"groups": [{"name": "syntax", "rules": [
        {"record": f"syntax_check_{i}", "expr": substitute(e)} for i, (_, e) in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(doc, f)
        path = f.name
    try:
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        return None if r.returncode == 0 else r.stdout + r.stderr
    finally:
        os.unlink(path)


def all_queries():
    """(where, expr) of every expression in dashboards/, rules first."""
    return [(w, e) for w, e, _ in rules()] + dashboard_queries()


if __name__ == "__main__":
    for where, expr in all_queries():
        print(f"{where}: {sorted(metric_names(substitute(expr)))}")
    problem = check_syntax(all_queries())
    print(problem or "promtool: every expression parses")
    sys.exit(1 if problem else 0)
