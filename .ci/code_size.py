"""Print the size figures the project keeps itself to (docs/developing.md, "Size"):

* a module: lines of code after its DOCUMENTATION / EXAMPLES / RETURN strings (blank and comment lines not
  counted), at most MODULE_LIMIT;
* a file in plugins/module_utils: non-blank lines, at most UTILS_LIMIT.

Usage: python .ci/code_size.py [--check]   (--check: exit 1 when a file is over its limit)
"""

import ast
import glob
import os
import sys

MODULE_LIMIT = 150
UTILS_LIMIT = 500
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module_code_lines(path):
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    end = 0
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN")
                                                for t in node.targets):
            end = max(end, node.end_lineno)
    lines = source.splitlines()[end:]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def nonblank_lines(path):
    with open(path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def figures():
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))):
        rows.append((os.path.relpath(path, ROOT), module_code_lines(path), MODULE_LIMIT))
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py"))):
        rows.append((os.path.relpath(path, ROOT), nonblank_lines(path), UTILS_LIMIT))
    return rows


def main(argv):
    over = 0
    for name, count, limit in figures():
        flag = "  OVER" if count > limit else ""
        over += bool(flag)
        print("%-55s %5d / %d%s" % (name, count, limit, flag))
    return 1 if over and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
