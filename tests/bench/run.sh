#!/bin/sh
# All benchmarks; figures and ratios, never pass/fail. One demo database of
# BENCH_CUSTOMERS (default 1,000,000) customers is made once and shared.
set -eu
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh tests/bench/http.sh
echo
t0=$(date +%s.%N)
"$BIN" demo-data --customers "${BENCH_CUSTOMERS:-1000000}" --seed 42 --db "$tmp/scrm.db" >/dev/null 2>&1
t1=$(date +%s.%N)
echo "demo-data: ${BENCH_CUSTOMERS:-1000000} customers, $(sqlite3 "$tmp/scrm.db" 'SELECT count(*) FROM orders') orders in $(echo "$t1 - $t0" | bc) s"
echo
BENCH_DB="$tmp/scrm.db" sh tests/bench/records.sh
echo
BENCH_DB="$tmp/scrm.db" sh tests/bench/loyalty.sh
echo
BENCH_DB="$tmp/scrm.db" sh tests/bench/segments.sh
echo
BENCH_DB="$tmp/scrm.db" sh tests/bench/analytics.sh
echo
sh tests/bench/sops.sh
echo
BENCH_DB="$tmp/scrm.db" sh tests/bench/web.sh
