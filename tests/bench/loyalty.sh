#!/bin/sh
# Member-club benchmark on the demo data (default 1,000,000 customers):
#   redemptions per second in the points mall under 64 concurrent clients, and
#   the time of the daily pass (points and coupon expiry, tier recompute) over
#   every customer. BENCH_DB reuses a demo database made by run.sh.
set -eu
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
N=${BENCH_CUSTOMERS:-1000000}
DUR=${BENCH_DURATION:-10}
PC=${BENCH_POINT_CUSTOMERS:-20000}
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export BENCH_POINT_CUSTOMERS=$PC

db=${BENCH_DB:-}
if [ -z "$db" ]; then
	db="$tmp/scrm.db"
	"$BIN" demo-data --customers "$N" --seed 42 --db "$db" >/dev/null 2>&1
fi
N=$(sqlite3 "$db" "SELECT count(*) FROM customers")
echo "scrmd member-club benchmark: $N demo customers, $(nproc) CPUs"

# points for the first $PC customers: lots written with their balances, as the
# ledger would (the bench needs buyers, not a history)
sqlite3 "$db" >/dev/null <<SQL
.timeout 20000
BEGIN;
INSERT INTO points_ledger(customer_id, delta, reason, ref_type, remaining, expires_at, created_at)
  SELECT id, 1000000, 'bench', 'manual', 1000000, strftime('%s','now') + 86400 * 365, strftime('%s','now')
  FROM customers WHERE id <= $PC;
UPDATE customers SET points_balance = (SELECT coalesce(sum(delta), 0) FROM points_ledger p WHERE p.customer_id = customers.id)
  WHERE id <= $PC;
COMMIT;
SQL

SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--db "$db" 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
base="http://127.0.0.1:$(cat "$tmp/port")"
token=$("$BIN" token create --name bench-loyalty --role admin --db "$db" 2>/dev/null)
auth="Authorization: Bearer $token"
post() { curl -s -H "$auth" -H 'Content-Type: application/json' -d "$2" "$base/api/v1/$1"; }
post tiers '{"name":"银卡-bench","min_spent_cents_12m":50000}' >/dev/null
post tiers '{"name":"金卡-bench","min_spent_cents_12m":200000}' >/dev/null
reward=$(post rewards '{"name":"bench socks","kind":"gift","points_cost":10,"stock":100000000}' |
	sed 's/^{"id":\([0-9]*\).*/\1/')

wrk -t2 -c64 -d"${DUR}s" --latency -H "$auth" -s tests/bench/redeem.lua \
	"$base/api/v1/rewards/$reward/redeem" >"$tmp/wrk.out" 2>&1
rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
bad=$(awk '/Non-2xx or 3xx/ {print $5}' "$tmp/wrk.out")
echo "points-mall redemptions, 64 clients: $rps /s (p50 $p50, p99 $p99, non-2xx ${bad:-0})"
sqlite3 "$db" "SELECT 'ledger check: ' || count(*) || ' customers whose balance differs from their ledger'
  FROM customers c WHERE c.points_balance != (SELECT coalesce(sum(delta), 0) FROM points_ledger p
  WHERE p.customer_id = c.id) AND c.id <= $PC"

# a lot past its expiry for every tenth customer, written after the daemon's own
# start-up pass, for the timed pass to find
sqlite3 "$db" >/dev/null <<SQL
.timeout 20000
BEGIN;
INSERT INTO points_ledger(customer_id, delta, reason, ref_type, remaining, expires_at, created_at)
  SELECT id, 100, 'bench', 'manual', 100, strftime('%s','now') - 60, strftime('%s','now') - 86400
  FROM customers WHERE id % 10 = 0;
UPDATE customers SET points_balance = points_balance + 100 WHERE id % 10 = 0;
COMMIT;
SQL
t0=$(date +%s.%N)
post admin/jobs/daily '{}' >"$tmp/daily.out"
t1=$(date +%s.%N)
echo "daily pass over $N customers: $(echo "$t1 - $t0" | bc) s  $(cat "$tmp/daily.out")"
