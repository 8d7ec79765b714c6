#!/usr/bin/python3
"""The house rules that a reader can check, checked (issue 14). Runs first in scripts/test.sh.

  includes   each folder's `.may_include` lists the folders its quoted includes may name (Tor's
             .may_include): a new crossing between layers fails here, not in review. Test and fuzz
             files may also include tests/ helpers. Third-party headers stay behind their fence
             (FENCES below): OpenSSL/libsodium in common/crypto, libevent in common/evloop, ...
  sizes      C++ and Python files <= FILE_BUDGET lines; functions <= FUNCTION_BUDGET lines, except
             the ones in the budget file scripts/structure-budget.txt (each names its size: it may
             shrink, never grow; a new long function fails).
  format     clang-format --dry-run -Werror over every C++ file git knows.
  root       only ROOT_FILES at the repository's root.
  readmes    every file a folder README names in backticks exists.

  check_structure.py [--only includes,sizes,...] [--write-budget]
Exit status 1 lists every violation, one per line, as PATH:LINE: rule: what."""
import argparse
import ast
import os
import re
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FILE_BUDGET = 600
FUNCTION_BUDGET = 60
BUDGET_FILE = os.path.join(REPO, "scripts", "structure-budget.txt")
ROOT_FILES = {".ci", ".clang-format", ".gitignore", "CMakeLists.txt", "LICENSE", "README.md",
              "agent", "bench", "bgp-glue", "client", "common", "dashboards", "deploy",
              "dmuxctl", "docs", "examples", "gateway", "mesh", "multicast", "packaging",
              "provider", "registry", "scripts", "sdk", "tests", "tools", "debian"}
# Angle-bracket header prefix -> the only paths (prefixes) that may include it.
FENCES = {
    "openssl/": ("common/crypto/", "bench/"),
    "sodium": ("common/crypto/", "bench/"),
    "event2/": ("common/evloop/",),
    "prometheus/": ("gateway/metrics_exporter", "client/metrics_exporter",
                    "provider/metrics_exporter", "multicast/metrics_exporter",
                    "common/metrics/", "agent/metrics_exporter", "agent/agent_families",
                    "sdk/"),
    "boost/": ("options.cpp", "options_test.cpp", "common/util/option_errors.h",
               "common/util/strict_command_line.h", "common/app/standard_options.h",
               "tools/loadgen/options.cpp", "tools/ca/options.cpp"),
    "libmnl/": ("client/", "bgp-glue/", "common/net/"),
    "systemd/": ("bgp-glue/systemd_notifier", "common/app/"),
}
CXX = (".cpp", ".h", ".cc", ".hpp")


def git_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    return [f for f in out.split("\n") if f and os.path.exists(os.path.join(REPO, f))]


def is_test(path):
    name = os.path.basename(path)
    return (name.endswith("_test.cpp") or name.startswith("fuzz_") or "test_support" in name or path.startswith("tests/")
            or path.startswith("bench/") or name.startswith("test_") or "/testing/" in path)


def may_include_rules(files):
    """folder -> allowed prefixes, from each folder's .may_include (nearest ancestor wins)."""
    rules = {}
    for f in files:
        if os.path.basename(f) == ".may_include":
            allowed = []
            with open(os.path.join(REPO, f)) as fh:
                for line in fh:
                    line = line.split("#", 1)[0].strip()
                    if line:
                        allowed.append(line)
            rules[os.path.dirname(f)] = allowed
    return rules


def rule_for(path, rules):
    d = os.path.dirname(path)
    while True:
        if d in rules:
            return d, rules[d]
        if not d:
            return None, None
        d = os.path.dirname(d)


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check_includes(files, problems):
    rules = may_include_rules(files)
    for f in files:
        if not f.endswith(CXX):
            continue
        folder, allowed = rule_for(f, rules)
        with open(os.path.join(REPO, f), errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, inc = m.groups()
                if kind == "<":
                    for prefix, owners in FENCES.items():
                        if inc.startswith(prefix) and not any(
                                f.startswith(o) or os.path.basename(f).startswith(o) or o in f
                                for o in owners):
                            problems.append(f"{f}:{n}: includes: <{inc}> is fenced to "
                                            f"{', '.join(owners)}")
                    continue
                if "/" not in inc:
                    continue  # a sibling header
                if folder is None:
                    continue  # folders without rules (tests/, bench/, tools/) may include anything
                target = os.path.dirname(inc)
                ok = target == folder or target.startswith(folder + "/") or any(
                    inc == a or inc.startswith(a.rstrip("/") + "/") for a in allowed)
                if not ok and is_test(f) and inc.startswith("tests/"):
                    ok = True
                if not ok:
                    problems.append(f"{f}:{n}: includes: \"{inc}\" is not in {folder}/.may_include")


def strip_cxx(text):
    """Source with comments, string and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + (m.group(1) if m else "") + '"', i)
            end = n if end < 0 else end + len(m.group(1) if m else "") + 2
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|try|return|case)\b")
SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$")


def cxx_functions(path):
    """(name, first line, lines) of every function body at namespace or class scope."""
    with open(os.path.join(REPO, path), errors="replace") as fh:
        text = strip_cxx(fh.read())
    found, stack, header, line = [], [], [], 1
    for c in text:
        if c == "\n":
            line += 1
        if c == "{":
            head = "".join(header).strip()
            inside_function = any(kind == "function" for kind, _, _ in stack)
            if (not inside_function and "(" in head and not CONTROL.match(head)
                    and not SCOPE.search(head.split("(")[0] + " ") and not head.endswith("=")):
                name = re.findall(r"([~\w:]+)\s*\(", head)
                stack.append(("function", name[0] if name else "?", line))
            else:
                stack.append(("block", "", line))
            header = []
        elif c == "}":
            if stack:
                kind, name, start = stack.pop()
                if kind == "function":
                    found.append((name, start, line - start + 1))
            header = []
        elif c == ";":
            header = []
        else:
            header.append(c)
    return found


def python_functions(path):
    with open(os.path.join(REPO, path), errors="replace") as fh:
        try:
            tree = ast.parse(fh.read())
        except SyntaxError as e:
            return [("<syntax error>", e.lineno or 1, 0)]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append((node.name, node.lineno, node.end_lineno - node.lineno + 1))
    return out


def read_budget():
    budget = {}
    if os.path.exists(BUDGET_FILE):
        with open(BUDGET_FILE) as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                if line:
                    key, size = line.rsplit(None, 1)
                    budget[key] = int(size)
    return budget


def measure_sizes(files):
    """[(key, size, budget, path, line, what)] for every file and function over its budget."""
    over = []
    for f in files:
        if not (f.endswith(CXX) or f.endswith(".py")):
            continue
        with open(os.path.join(REPO, f), errors="replace") as fh:
            lines = sum(1 for _ in fh)
        if lines > FILE_BUDGET:
            over.append((f, lines, FILE_BUDGET, f, 1, f"file has {lines} lines"))
        funcs = python_functions(f) if f.endswith(".py") else cxx_functions(f)
        for name, start, size in funcs:
            if size > FUNCTION_BUDGET:
                over.append((f"{f}:{name}", size, FUNCTION_BUDGET, f, start,
                             f"function {name} has {size} lines"))
    return over


def check_sizes(files, problems, write_budget):
    over = measure_sizes(files)
    if write_budget:
        with open(BUDGET_FILE, "w") as fh:
            fh.write("# Files and functions over the budget of scripts/check_structure.py when it was\n"
                     "# introduced, with their size then. Each may shrink (then lower or remove its\n"
                     "# line), never grow; anything not listed must meet the budget.\n")
            for key, size, _, _, _, _ in sorted(over):
                fh.write(f"{key} {size}\n")
        return
    budget = read_budget()
    for key, size, limit, path, line, what in over:
        allowed = budget.get(key, limit)
        if size > allowed:
            grandfathered = f" (budget file allows {allowed})" if key in budget else ""
            problems.append(f"{path}:{line}: sizes: {what}, over {limit}{grandfathered}")


def check_format(files, problems):
    cxx = [f for f in files if f.endswith(CXX)]
    r = subprocess.run(["clang-format", "--dry-run", "-Werror", "--style=file"] + cxx, cwd=REPO,
                       capture_output=True, text=True)
    bad = sorted({m.group(1) for m in re.finditer(r"^([^\s:]+):\d+:\d+: error", r.stderr, re.M)})
    for f in bad:
        problems.append(f"{f}:1: format: not clang-format clean (run clang-format -i {f})")


def check_root(files, problems):
    for name in sorted({f.split("/")[0] for f in files}):
        if name not in ROOT_FILES:
            problems.append(f"{name}:1: root: not an allowed root entry ({', '.join(sorted(ROOT_FILES))})")


FILE_NAME = re.compile(r"`([\w./+-]+\.(?:cpp|h|py|sh|md|json|yml|yaml|conf|in|service|txt))`")


def check_readmes(files, problems):
    present = set(files)
    basenames = {}
    for p in files:
        basenames.setdefault(os.path.basename(p), []).append(p)
    for f in files:
        if os.path.basename(f) != "README.md" or f == "README.md":
            continue
        folder = os.path.dirname(f)
        with open(os.path.join(REPO, f), errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                for name in FILE_NAME.findall(line):
                    if "*" in name or name.startswith("/") or name.startswith("build"):
                        continue
                    name = name.split("/.")[0]  # `x.h/.cpp` names the pair
                    candidates = [os.path.normpath(os.path.join(folder, name)), name]
                    if not any(c in present or os.path.isdir(os.path.join(REPO, c))
                               for c in candidates) and len(basenames.get(name, ())) != 1:
                        problems.append(f"{f}:{n}: readmes: names `{name}`, which does not exist")


CHECKS = {"includes": check_includes, "sizes": check_sizes, "format": check_format,
          "root": check_root, "readmes": check_readmes}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default=",".join(CHECKS), help="comma-separated subset of checks")
    ap.add_argument("--write-budget", action="store_true",
                    help="record today's oversize files/functions in " + BUDGET_FILE)
    args = ap.parse_args()
    files = git_files()
    problems = []
    for name in args.only.split(","):
        if name not in CHECKS:
            ap.error(f"unknown check {name}")
        if name == "sizes":
            check_sizes(files, problems, args.write_budget)
        else:
            CHECKS[name](files, problems)
    for p in problems:
        print(p)
    print(f"structure: {len(problems)} problem(s) in {args.only}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
