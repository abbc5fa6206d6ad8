#!/usr/bin/env bash
# Runs every test project of the solution (the README's test command) and closes with one summary line.
set -uo pipefail
cd "$(dirname "$0")"
# Azurite (pinned in tools/azurite), Node.js and ffmpeg, each installed only when missing.
tools/test-prerequisites.sh || { echo "test.sh: could not install the test prerequisites (see tools/test-prerequisites.sh)" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One test project at a time (-m:1): the broker, worker and memory tests measure timing and peaks, and with every
# project running at once on a 2-core machine a lock-expiry test of the Service Bus double missed its redelivery in
# both full runs on the evening of 2026-12-01 (never in 12 runs of that project alone). Traced since: the redelivery
# stays queued in AMQPNetLite's session until the client's next frame (tests/CodeFormer.ServiceBus.TestBroker/README.md,
# "Known flake"); lower load makes it rarer, not impossible. Each project still runs its own tests in parallel.
dotnet test CodeFormer.Cloud.sln -c Release -m:1 --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# dotnet test prints one block per test project; add them up into the plain closing line CI reads.
awk '/^ +Passed: +[0-9]+$/ {p += $2} /^ +Failed: +[0-9]+$/ {f += $2} /^ +Skipped: +[0-9]+$/ {s += $2}
     END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
exit "$status"
