#!/bin/sh
# Core-records benchmark on the demo data (default 1,000,000 customers):
#   demo-data load time; wrk on GET /healthz, GET /customers/{id}, search by
#   phone and POST /orders (upsert + bind), each with its ratio to /healthz;
#   bulk import rate (orders/s) next to a raw SQLite insert loop in the same run.
set -eu
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
N=${BENCH_CUSTOMERS:-1000000}
DUR=${BENCH_DURATION:-10}
IMPORT=${BENCH_IMPORT_ROWS:-200000}
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export BENCH_PHONES="$tmp/phones"

db=${BENCH_DB:-}
if [ -z "$db" ]; then
	db="$tmp/scrm.db"
	t0=$(date +%s.%N)
	"$BIN" demo-data --customers "$N" --seed 42 --db "$db" >"$tmp/demo.log" 2>&1
	t1=$(date +%s.%N)
	echo "demo-data: $N customers in $(echo "$t1 - $t0" | bc) s"
fi
N=$(sqlite3 "$db" "SELECT count(*) FROM customers")
orders=$(sqlite3 "$db" "SELECT count(*) FROM orders")
export BENCH_CUSTOMERS=$N
echo "scrmd core-records benchmark: $N demo customers, $orders orders, $(nproc) CPUs"
sqlite3 "$db" "SELECT phone FROM customers WHERE phone IS NOT NULL ORDER BY random() LIMIT 20000" >"$tmp/phones"

SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--db "$db" 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
base="http://127.0.0.1:$(cat "$tmp/port")"
token=$("$BIN" token create --name bench --role admin --db "$db" 2>/dev/null)
auth="Authorization: Bearer $token"

run() { # name, wrk args...
	name=$1
	shift
	wrk -t2 -c64 -d"${DUR}s" --latency "$@" >"$tmp/wrk.out" 2>&1
	printf '%s|%s|%s|%s|%s\n' "$name" "$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")" \
		"$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")" "$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")" \
		"$(awk '/Non-2xx or 3xx/ {print $5}' "$tmp/wrk.out")" >>"$tmp/results"
}
run "GET /healthz" "$base/healthz"
run "GET /api/v1/customers/{id}" -H "$auth" -s tests/bench/read_customer.lua "$base"
run "GET /api/v1/customers?q=<phone prefix>" -H "$auth" -s tests/bench/search_phone.lua "$base"
run "POST /api/v1/orders (new, bound)" -H "$auth" -s tests/bench/upsert_order.lua "$base/api/v1/orders"

base_rps=$(awk -F'|' 'NR == 1 {print $2}' "$tmp/results")
printf '\n%-40s %12s %10s %10s %8s %10s\n' endpoint requests/s p50 p99 non-2xx "vs healthz"
awk -F'|' -v b="$base_rps" '{printf "%-40s %12.0f %10s %10s %8s %9.2fx\n", $1, $2, $3, $4, ($5 == "" ? 0 : $5), $2 / b}' "$tmp/results"

# bulk import: new orders, half bought with customers' phones
awk -v n="$IMPORT" 'BEGIN { srand(3) }
	NR <= 20000 { p[NR] = $0 }
	END { for (i = 1; i <= n; i++) {
		ph = (i % 2) ? p[int(rand() * 20000) + 1] : sprintf("1990%07d", i)
		printf "{\"platform\":\"import\",\"external_id\":\"I%09d\",\"buyer_phone\":\"%s\",\"amount_cents\":%d,\"paid_at\":\"2026-11-0%dT10:00:00Z\",\"items\":[{\"sku\":\"B-101\",\"name\":\"纯棉短袜\",\"category\":\"basics\",\"quantity\":3,\"price_cents\":1990}]}\n", i, ph, 5970, 1 + i % 9 } }' \
	"$tmp/phones" >"$tmp/import.ndjson"
t0=$(date +%s.%N)
curl -s -H "$auth" -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/import.ndjson" \
	"$base/api/v1/orders/import" >"$tmp/import.out"
t1=$(date +%s.%N)
created=$(sed 's/.*"created":\([0-9]*\).*/\1/' "$tmp/import.out")
imp=$(echo "$created / ($t1 - $t0)" | bc)
t0=$(date +%s.%N)
curl -s -H "$auth" -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/import.ndjson" \
	"$base/api/v1/orders/import" >"$tmp/import2.out"
t1=$(date +%s.%N)
rerun=$(echo "$IMPORT / ($t1 - $t0)" | bc)
kill -TERM "$pid"
wait "$pid" || true
pid=""

cc -O2 -o "$tmp/raw_insert" tests/bench/raw_insert.c -lsqlite3
raw=$("$tmp/raw_insert" "$tmp/raw.db" "$IMPORT")
echo
echo "import of $IMPORT NDJSON orders into $orders: $created created at $imp orders/s"
echo "re-run of the same file (all unchanged): $rerun lines/s"
echo "raw SQLite insert loop, same indexes, 1000 rows/tx: $raw rows/s"
echo "import vs raw insert loop: $(echo "scale=2; $imp / $raw" | bc)x"
