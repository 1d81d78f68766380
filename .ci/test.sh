#!/usr/bin/env bash
# The test pipeline behind `make test` and its sub-targets.
#
#   .ci/test.sh all                   everything, the way CI runs it (see below)
#   .ci/test.sh STEP [STEP...]        only these steps, in pass 1's venv
#                                     STEP: venv lint docs sanity units emulator integration
#
# Pass 1: $PYTHON (default python3, 3.11 here -> ansible-core 2.19) in $VENV (default .venv):
#         lint, docs, sanity, units, emulator, integration.
# Pass 2: a pyenv 3.12 interpreter (-> ansible-core 2.21) in .venv-3.12: sanity, units, integration.
#         Skipped with a message when no 3.12 interpreter exists, or when SECOND_PASS=0.
#
# Every step runs even when an earlier one failed; the exit status is non-zero when any step failed.
# The last line printed is a pytest-style closing line that adds up all pytest runs of this
# invocation; each failed step that is not pytest (lint, docs, sanity, venv) counts as one error in it.
#
# pytest exit code 5 ("no tests collected"): a test directory that holds no test_*.py file at all is
# reported as "skipped: no tests yet" and does not fail (early in the project); a directory that has
# test files but collects nothing fails the step.
#
# Other knobs: XDIST (workers for the integration and emulator suites, default 2; 0 = no xdist),
# PYTEST_ARGS (extra pytest arguments), KEEP_WORK=1 (keep the temp dir with the staged copy),
# STEP_TIMEOUT (seconds one sanity or pytest step may take before it is stopped, default 2400, so a
# hung test cannot eat CI's 90 minutes).

set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 2
NS=intune
NAME=autopilot
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$REPO/.venv}"
XDIST="${XDIST:-2}"
STEP_TIMEOUT="${STEP_TIMEOUT:-2400}"
export PYTHONDONTWRITEBYTECODE=1
export ANSIBLE_NOCOLOR=1
export PY_COLORS=0

WORK="$(mktemp -d "${TMPDIR:-/tmp}/${NS}-${NAME}-test-XXXXXX")"
cleanup() {
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

T0=$SECONDS
SUMMARY=()          # one line per step
FAILED_STEPS=0      # failed steps that are not pytest runs (each = 1 error in the closing line)
PYTEST_RUNS=()      # junit xml files
PYTEST_CRASHES=0    # pytest runs that failed without reporting a failure (crash, exit 5, ...)

banner() { printf '\n=== [%ss] %s\n' "$((SECONDS - T0))" "$*"; }
record() {  # record PASS STEP STATUS SECONDS [DETAIL]
    SUMMARY+=("$(printf '%-6s %-12s %-28s %5ss  %s' "$1" "$2" "$3" "$4" "${5:-}")")
}

# --- venv -------------------------------------------------------------------------------------
# ensure_venv VENVDIR PYTHON: create it if missing; (re)install requirements when they changed.
ensure_venv() {
    local venv="$1" py="$2" want stamp
    if [ ! -x "$venv/bin/python" ]; then
        echo "creating $venv with $py ($("$py" --version 2>&1))"
        "$py" -m venv "$venv" || return 1
    fi
    stamp="$venv/.${NS}-${NAME}-requirements.sha256"
    want="$(cat "$REPO/requirements-dev.txt" "$REPO/requirements.txt" | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "installing requirements-dev.txt + requirements.txt into $venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip || return 1
        "$venv/bin/python" -m pip install -q --disable-pip-version-check \
            -r "$REPO/requirements-dev.txt" -r "$REPO/requirements.txt" || return 1
        echo "$want" > "$stamp"
    fi
    "$venv/bin/python" - <<'EOF'
import sys
from ansible.release import __version__
print("venv ready: Python %d.%d.%d, ansible-core %s" % (sys.version_info[:3] + (__version__,)))
EOF
}

# --- staging: git-tracked + untracked-not-ignored files as <work>/ansible_collections/NS/NAME ------
# stage DIR: prints the collection path.
stage() {
    local dest="$1/ansible_collections/$NS/$NAME"
    if [ ! -d "$dest" ]; then
        mkdir -p "$dest"
        if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
            git -C "$REPO" ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do
                    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
                done | tar --null -T - -cf - | tar -xf - -C "$dest"
        else
            tar --exclude=./.git --exclude='./.venv*' --exclude=./.ansible --exclude=./tests/output \
                --exclude=./.demo --exclude=./.bench --exclude=__pycache__ --exclude=.pytest_cache \
                -cf - . | tar -xf - -C "$dest"
        fi
    fi
    echo "$dest"
}

# --- steps ------------------------------------------------------------------------------------
# Each step function runs with the venv's bin first on PATH and returns non-zero on failure.

step_lint() {
    # From the repo root (a git checkout), never --offline: the offline mode cannot resolve our own
    # modules. It writes .ansible/ (gitignored) and installs collections/requirements.yml if present.
    (cd "$REPO" && ansible-lint --profile production --nocolor)
}

step_docs() {
    local dest="$1" out="$WORK/$2-docs" tarball m failed=0 n=0 role
    mkdir -p "$out/dist" "$out/collections"
    ansible-galaxy collection build --output-path "$out/dist" "$dest" || return 1
    tarball="$(ls "$out/dist/${NS}-${NAME}-"*.tar.gz)" || return 1
    echo "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
    if ! ansible-galaxy collection install "$tarball" -p "$out/collections" > "$out/install.log" 2>&1; then
        cat "$out/install.log"; return 1
    fi
    export ANSIBLE_COLLECTIONS_PATH="$out/collections"
    local modules=() roles=()
    for m in "$dest"/plugins/modules/*.py; do
        [ -e "$m" ] && modules+=("$NS.$NAME.$(basename "$m" .py)")
    done
    for role in "$dest"/roles/*/meta/argument_specs.yml; do
        [ -e "$role" ] && roles+=("$NS.$NAME.$(basename "$(dirname "$(dirname "$role")")")")
    done
    n=${#modules[@]}
    # One ansible-doc call per type and format (each call costs seconds); a module missing from the
    # JSON or without short_description/options fails the step, and so does any ERROR while rendering.
    if [ "$n" -gt 0 ]; then
        ansible-doc --json "${modules[@]}" > "$out/modules.json" 2> "$out/modules.err" || failed=1
        ansible-doc "${modules[@]}" > "$out/modules.txt" 2>> "$out/modules.err" || failed=1
    fi
    if [ "${#roles[@]}" -gt 0 ]; then
        ansible-doc -t role --json "${roles[@]}" > "$out/roles.json" 2> "$out/roles.err" || failed=1
        ansible-doc -t role "${roles[@]}" > "$out/roles.txt" 2>> "$out/roles.err" || failed=1
    fi
    python - "$out" "$n" "${modules[@]}" "${roles[@]}" <<'EOF' || failed=1
import json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
modules, roles = sys.argv[3:3 + n], sys.argv[3 + n:]
bad = 0
for kind, names, key, needed in (("module", modules, "doc", ("short_description", "options")),
                                 ("role", roles, "entry_points", ())):
    if not names:
        continue
    path = os.path.join(out, kind + "s.json")
    data = json.load(open(path)) if os.path.getsize(path) else {}
    for name in names:
        doc = (data.get(name) or {}).get(key)
        missing = [field for field in needed if not (doc or {}).get(field)]
        if not doc or missing:
            print("ansible-doc FAILED for %s %s: %s" % (kind, name, "not rendered" if not doc else "no " + ", ".join(missing)))
            bad = 1
        else:
            print("ansible-doc ok: %s %s" % (kind, name))
for kind in ("modules", "roles"):
    err = os.path.join(out, kind + ".err")
    if os.path.exists(err) and "ERROR" in open(err).read():
        print("ansible-doc reported errors for %s:\n%s" % (kind, open(err).read()))
        bad = 1
sys.exit(bad)
EOF
    unset ANSIBLE_COLLECTIONS_PATH
    echo "$n module(s) documented"
    return "$failed"
}

step_sanity() {
    local dest="$1" pipv pyv
    # ansible-test downloads get-pip from a host this machine cannot reach; it first looks in its cache.
    pipv="$(python - <<'EOF'
import os, re, ansible_test
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
EOF
)" || return 1
    mkdir -p "$HOME/.ansible/test/cache"
    cp "$REPO/.ci/ansible_test_get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py"
    pyv="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    (cd "$dest" && timeout -k 30 "$STEP_TIMEOUT" ansible-test sanity --python "$pyv" --color no)
}

# unit_pythonpath: a directory holding ansible_collections/NS/NAME -> the repo (a symlink is enough
# for Python imports, unlike for ansible-test).
unit_pythonpath() {
    local base="$WORK/pythonpath"
    if [ ! -e "$base/ansible_collections/$NS/$NAME" ]; then
        mkdir -p "$base/ansible_collections/$NS"
        ln -s "$REPO" "$base/ansible_collections/$NS/$NAME"
    fi
    echo "$base"
}

# run_pytest PASS STEP DEST DIR [pytest args...]
run_pytest() {
    local pass="$1" step="$2" dest="$3" dir="$4" junit log rc line
    shift 4
    junit="$WORK/junit-$pass-$step.xml"
    log="$WORK/pytest-$pass-$step.log"
    if [ -z "$(find "$REPO/$dir" -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | head -n 1)" ]; then
        echo "no test files under $dir yet: step skipped"
        LAST_DETAIL="skipped: no tests yet in $dir"
        return 0
    fi
    # From the repo root (as a developer runs them), not from the staged copy: inside an
    # ansible_collections/ tree ansible-galaxy and ansible-builder see the collection as already
    # installed, which changes what the AWX tests observe. PYTHONPATH (for
    # `import ansible_collections.intune.autopilot`) only for the unit tests, for the same reason:
    # ansible scans sys.path for collections.
    local pythonpath="${PYTHONPATH:-}"
    if [ "$step" = units ]; then
        pythonpath="$(unit_pythonpath)${pythonpath:+:$pythonpath}"
    fi
    # shellcheck disable=SC2086
    (cd "$REPO" && PYTHONPATH="$pythonpath" \
        timeout -k 30 "$STEP_TIMEOUT" python -m pytest "$dir" -p no:cacheprovider -rfEs --tb=short --junitxml="$junit" "$@" ${PYTEST_ARGS:-}) 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line="$(grep -E '^=+ .* in [0-9.]+s' "$log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
    LAST_DETAIL="${line:-pytest exit $rc}"
    if [ -f "$junit" ]; then PYTEST_RUNS+=("$junit"); fi
    if [ "$rc" = 124 ]; then
        echo "pytest did not finish within STEP_TIMEOUT=${STEP_TIMEOUT}s: stopped"
        LAST_DETAIL="timed out after ${STEP_TIMEOUT}s"
    fi
    if [ "$rc" = 5 ]; then
        echo "pytest collected no tests from $dir although it has test files: failing the step"
        LAST_DETAIL="exit 5: no tests collected"
    fi
    if [ "$rc" != 0 ] && ! grep -qE '<failure|<error' "$junit" 2>/dev/null; then
        PYTEST_CRASHES=$((PYTEST_CRASHES + 1))
    fi
    return "$rc"
}

xdist_args() {
    if [ "$XDIST" != 0 ]; then echo "-n $XDIST"; fi
}

# run_step PASS STEP VENV DEST: runs one step with VENV active and records the result.
run_step() {
    local pass="$1" step="$2" venv="$3" dest="$4" start rc=0
    start=$SECONDS
    LAST_DETAIL=""
    banner "$pass: $step"
    # shellcheck disable=SC2046
    case "$step" in
        lint)        PATH="$venv/bin:$PATH" step_lint; rc=$? ;;
        docs)        PATH="$venv/bin:$PATH" step_docs "$dest" "$pass"; rc=$? ;;
        sanity)      PATH="$venv/bin:$PATH" step_sanity "$dest"; rc=$? ;;
        units)       PATH="$venv/bin:$PATH" run_pytest "$pass" units "$dest" tests/unit; rc=$? ;;
        emulator)    PATH="$venv/bin:$PATH" run_pytest "$pass" emulator "$dest" tests/graph_emulator/tests $(xdist_args); rc=$? ;;
        integration) PATH="$venv/bin:$PATH" run_pytest "$pass" integration "$dest" tests/integration $(xdist_args); rc=$? ;;
        *) echo "unknown step: $step"; rc=2 ;;
    esac
    if [ "$rc" = 0 ]; then
        record "$pass" "$step" "ok" "$((SECONDS - start))" "$LAST_DETAIL"
    else
        record "$pass" "$step" "FAILED (exit $rc)" "$((SECONDS - start))" "$LAST_DETAIL"
        case "$step" in units|emulator|integration) ;; *) FAILED_STEPS=$((FAILED_STEPS + 1)) ;; esac
    fi
    return 0
}

# run_pass PASS PYTHON VENV STEP...
run_pass() {
    local pass="$1" py="$2" venv="$3" start dest step
    shift 3
    start=$SECONDS
    banner "$pass: venv $venv ($py)"
    if ! ensure_venv "$venv" "$py"; then
        record "$pass" venv "FAILED" "$((SECONDS - start))" "could not create $venv"
        FAILED_STEPS=$((FAILED_STEPS + 1))
        return 0
    fi
    record "$pass" venv "ok" "$((SECONDS - start))" "$("$venv/bin/python" -c 'import sys, ansible.release as r; print("Python %d.%d, ansible-core %s" % (sys.version_info[0], sys.version_info[1], r.__version__))')"
    dest="$(stage "$WORK/$pass")"
    for step in "$@"; do
        [ "$step" = venv ] && continue
        run_step "$pass" "$step" "$venv" "$dest"
    done
}

find_python312() {
    local root
    command -v pyenv >/dev/null 2>&1 || return 1
    root="$(pyenv root)" || return 1
    # shellcheck disable=SC2012
    ls -d "$root"/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -n 1 | grep .
}

closing_line() {
    "$VENV/bin/python" - "$FAILED_STEPS" "$PYTEST_CRASHES" "$((SECONDS - T0))" "${PYTEST_RUNS[@]}" <<'EOF' || python3 -c 'print("=== 1 error (could not add up results) ===")'
import sys
import xml.etree.ElementTree as ET

step_errors, crashes, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tests = failures = errors = skipped = 0
for path in sys.argv[4:]:
    root = ET.parse(path).getroot()
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0))
        errors += int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
passed = tests - failures - errors - skipped
errors += step_errors + crashes
parts = []
for count, word in ((failures, "failed"), (passed, "passed"), (skipped, "skipped"), (errors, "error" if errors == 1 else "errors")):
    if count:
        parts.append("%d %s" % (count, word))
text = " %s in %d.00s (%d:%02d:%02d) " % (", ".join(parts) or "no tests ran", seconds, seconds // 3600, seconds // 60 % 60, seconds % 60)
width = max(len(text) + 2, 100)
left = (width - len(text)) // 2
print("=" * left + text + "=" * (width - len(text) - left))
EOF
}

# --- main -------------------------------------------------------------------------------------
if [ "$#" = 0 ]; then set -- all; fi
if [ "$1" = all ]; then
    run_pass py1 "$PYTHON" "$VENV" lint docs sanity units emulator integration
    if [ "${SECOND_PASS:-1}" = 0 ]; then
        record py2 "-" "skipped (SECOND_PASS=0)" 0
    elif PY312="$(find_python312)"; then
        run_pass py2 "$PY312" "$REPO/.venv-3.12" sanity units integration
    else
        echo "no Python 3.12 interpreter found (pyenv versions/3.12*): second pass on ansible-core 2.21 skipped"
        record py2 "-" "skipped: no Python 3.12" 0
    fi
else
    run_pass py1 "$PYTHON" "$VENV" "$@"
fi

banner "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "(closing line: all pytest runs added up; each failed lint/docs/sanity/venv step counts as 1 error)"
closing_line
if [ "$FAILED_STEPS" != 0 ] || printf '%s\n' "${SUMMARY[@]}" | grep -q FAILED; then
    exit 1
fi
exit 0
