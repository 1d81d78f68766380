#!/usr/bin/env bash
# Runs every bench/*.py with the given Python from the repository root and prints its output.
# Fails when a script fails; benchmarks print figures, they do not assert times.
set -uo pipefail
PY="${1:-python3}"
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
rc=0 n=0
for script in bench/*.py; do
    [ -e "$script" ] || continue
    n=$((n + 1))
    printf '\n=== %s\n' "$script"
    if ! "$PY" "$script"; then
        echo "FAILED: $script"
        rc=1
    fi
done
[ "$n" = 0 ] && echo "no bench/*.py scripts yet"
exit "$rc"
