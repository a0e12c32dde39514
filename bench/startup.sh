#!/usr/bin/env bash
# Start-up time of plain eval/grad (the console script's fast path) and of
# a table and of another command (the typer app), for this tree against
# another one (the base a branch started from), each run as the console
# script runs it (gradcli.cli_fast:main).
#   bench/startup.sh /path/to/base/src
# Needs hyperfine. Run by hand on a quiet machine; figures in bench/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)/src"
base="${1:?usage: bench/startup.sh OTHER_TREE/src}"
py="${PYTHON:-python}"
launch="$(mktemp -d)/gradcli"
trap 'rm -rf "$(dirname "$launch")"' EXIT
printf 'import sys\nfrom gradcli.cli_fast import main\nmain()\n' > "$launch"
for args in "eval a*b+c a=1 b=2 c=3" "grad (a*b+c)*f a=2 b=-3 c=10 f=-2" \
            "grad (a*b+c)*f a=2 b=-3 c=10 f=-2 --table" "hessian x*y x=1 y=2"; do
  hyperfine -N -w 5 -r "${RUNS:-40}" \
    -n "base: $args" "env PYTHONPATH=$base $py $launch $args" \
    -n "this: $args" "env PYTHONPATH=$here $py $launch $args"
done
