#!/usr/bin/env bash
# Runs every test project of the solution (the README's test command) and closes with one summary line.
set -uo pipefail
cd "$(dirname "$0")"
# The service tests start their own Azurite from tools/azurite (version pinned in its package-lock.json).
if [ ! -x tools/azurite/node_modules/.bin/azurite ]; then
  npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error >/dev/null
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test CodeFormer.Cloud.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# dotnet test prints one block per test project; add them up into the plain closing line CI reads.
awk '/^ +Passed: +[0-9]+$/ {p += $2} /^ +Failed: +[0-9]+$/ {f += $2} /^ +Skipped: +[0-9]+$/ {s += $2}
     END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
exit "$status"
