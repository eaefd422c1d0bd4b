#!/usr/bin/env bash
# Runs the test suites in phases (pure unit tests in parallel; namespace tests two at a time; VM
# tests one at a time, since each boots QEMU on a 2-core machine) and ends with one plain summary
# line "tests: N passed, N failed, N skipped". With CI=true any skip counts as a failure.
# Usage: scripts/run-tap.sh [phase...]   phases: unit netns vm (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
phases=("$@"); [ ${#phases[@]} -eq 0 ] && phases=(unit netns vm)
declare -A jobs=([unit]=2 [netns]=2 [vm]=1)
passed=0 failed=0 skipped=0 status=0
out=$(mktemp); trap 'rm -f "$out"' EXIT
for phase in "${phases[@]}"; do
  # Only *.test.ts files are tests; helpers beside them (test/vm/lib/...) are not.
  mapfile -t files < <(find "test/$phase" -name '*.test.ts' 2>/dev/null | sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "# phase $phase: no test files"; continue
  fi
  echo "# phase $phase"
  npx tap --reporter=tap --jobs="${jobs[$phase]:-1}" "${files[@]}" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  summary=$(grep -E '^# \{ total: ' "$out" | tail -1)
  count() { sed -nE "s/.*[{ ,]$1: ([0-9]+).*/\1/p" <<<"$summary"; }
  p=$(count pass); f=$(count fail); s=$(count skip); td=$(count todo)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0} + ${td:-0}))
  if [ "$rc" -ne 0 ]; then
    status=1
    # a crashed file may leave no summary; make sure it is counted as a failure
    [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
  fi
done
if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
  echo "# CI=true: $skipped skipped test(s) count as failures (see the SKIP reasons above)"
  failed=$((failed + skipped)); status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
