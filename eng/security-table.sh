#!/usr/bin/env bash
# Regenerates the "What was tried and what held" table in docs/atlas-security.md: runs every test that carries a
# [Trait("Hardening", "N")] (the regression tests of the hardening issue), then writes one row per test with the item
# number, what was tried (the test's summary), the promise that holds (its name) and this run's result.
# Usage: eng/security-table.sh [--no-run | --from DIR]
#   --no-run    reuse artifacts/security/*.trx from this script's last run
#   --from DIR  take the results of another run (for example artifacts/test-results after ./eng/test.sh)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
RESULTS="$ROOT/artifacts/security"
if [ "${1:-}" = "--from" ]; then
  RESULTS="$(cd "${2:?--from needs a folder with .trx files}" && pwd)"
elif [ "${1:-}" != "--no-run" ]; then
  rm -rf "$RESULTS"
  mkdir -p "$RESULTS"
  dotnet build Atlas.slnx -c Release -nologo -clp:ErrorsOnly || exit 1
  dotnet test --solution Atlas.slnx -c Release --no-build --no-progress --results-directory "$RESULTS" \
    --report-xunit-trx --filter-trait "Hardening=*" > "$RESULTS/test.log" 2>&1
  tail -n 6 "$RESULTS/test.log"
fi
exec dotnet run --file eng/SecurityTable.cs -- "$ROOT" "$RESULTS" docs/atlas-security.md
