#!/bin/sh
# Audience and auto-tag benchmark on the demo data (default 1,000,000 customers):
#   the time of POST /audiences/preview for representative rules (the server's
#   own took_ms, median of 5, and the client's wall time), a full auto-tag
#   evaluation over every customer for the same rules, and the daily pass's
#   segment stage, next to a plain SQLite `SELECT count(*) FROM customers` and
#   a full scan of every customer in the same run ("vs scan": preview / that
#   scan). BENCH_DB reuses a demo database made by run.sh.
set -eu
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
N=${BENCH_CUSTOMERS:-1000000}
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

db=${BENCH_DB:-}
if [ -z "$db" ]; then
	db="$tmp/scrm.db"
	"$BIN" demo-data --customers "$N" --seed 42 --db "$db" >/dev/null 2>&1
fi
N=$(sqlite3 "$db" "SELECT count(*) FROM customers")
echo "scrmd audience benchmark: $N demo customers, $(nproc) CPUs"

# the demo data has no points: a yuan of spend as a point, written as one lot
# per buyer so that balances agree with the ledger
sqlite3 "$db" >/dev/null <<SQL
.timeout 20000
BEGIN;
INSERT INTO points_ledger(customer_id, delta, reason, ref_type, remaining, expires_at, created_at)
  SELECT id, total_spent_cents / 100, 'bench', 'manual', total_spent_cents / 100,
    strftime('%s','now') + 86400 * 365, strftime('%s','now')
  FROM customers WHERE total_spent_cents >= 100 AND points_balance = 0;
UPDATE customers SET points_balance = total_spent_cents / 100
  WHERE total_spent_cents >= 100 AND points_balance = 0;
COMMIT;
SQL

# milliseconds of the median of 5 runs of an SQL statement in the sqlite3 shell
sql_ms() {
	for _ in 1 2 3 4 5; do
		printf '.timer on\n%s\n' "$1" | sqlite3 "$db" | awk '/^Run Time:/ {print $4 * 1000}'
	done | sort -n | sed -n 3p
}
echo "sqlite3 SELECT count(*) FROM customers: $(sql_ms 'SELECT count(*) FROM customers;') ms"
base_ms=$(sql_ms 'SELECT count(*) FROM customers WHERE order_count >= 0;')
echo "sqlite3 full scan (count where order_count >= 0): $base_ms ms"

mark() { sqlite3 "$db" "SELECT value FROM settings WHERE key = 'daily_pass'" 2>/dev/null || true; }
mark0=$(mark)
SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--db "$db" 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
base="http://127.0.0.1:$(cat "$tmp/port")"
# a daemon's first start of the day runs the daily pass: measure after it, alone
i=0
while [ $i -lt 3000 ] && ! grep -q 'daily pass' "$tmp/daemon.log"; do
	[ $i -ge 60 ] && [ "$(mark)" = "$mark0" ] && break # not due: nothing runs
	sleep 0.1
	i=$((i + 1))
done
token=$("$BIN" token create --name bench-segments --role admin --db "$db" 2>/dev/null)
auth="Authorization: Bearer $token"
post() { curl -s -H "$auth" -H 'Content-Type: application/json' -d "$2" "$base/api/v1/$1"; }
num() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

# name|rule: what operators ask for
cat >"$tmp/rules" <<'EOF'
5+ orders, mostly basics|{"all":[{"field":"order_count","op":">=","value":5},{"field":"tag","op":"has","value":"基础款偏好"}]}
500+ points, birthday this month, no order in 30 days|{"all":[{"field":"points_balance","op":">=","value":500},{"field":"birthday_month","op":"=","value":"current"},{"field":"days_since_last_order","op":">","value":30}]}
five conditions (spend, platform, recency, stage, gender)|{"all":[{"field":"total_spent_cents","op":">=","value":20000},{"field":"platform","op":"has","value":"tmall"},{"field":"days_since_last_order","op":"<=","value":90},{"field":"stage","op":"in","value":["converted","repurchasing"]},{"field":"gender","op":"=","value":"f"}]}
five conditions with any/not (category, tags, owner)|{"all":[{"field":"category","op":"has","value":"gift"},{"any":[{"field":"tag","op":"has","value":"双11"},{"field":"tag","op":"has","value":"618"}]},{"not":{"field":"tag","op":"has","value":"有退款"}},{"field":"owner_user_id","op":"exists","value":true},{"field":"order_count","op":"between","value":[2,10]}]}
sleeping buyers (no order in 180 days, 2+ orders)|{"all":[{"field":"days_since_last_order","op":">","value":180},{"field":"order_count","op":">=","value":2}]}
birthday within 7 days|{"field":"birthday_in_days","op":"<=","value":7}
EOF

echo
printf '%-58s %9s %11s %9s %10s\n' "rule" "matches" "preview ms" "wall ms" "vs scan"
while IFS='|' read -r name rule; do
	: >"$tmp/took"
	: >"$tmp/wall"
	for _ in 1 2 3 4 5; do
		t0=$(date +%s%N)
		post audiences/preview "{\"rule\":$rule}" >"$tmp/p.out"
		t1=$(date +%s%N)
		echo "$(num took_ms <"$tmp/p.out")" >>"$tmp/took"
		echo $(((t1 - t0) / 1000000)) >>"$tmp/wall"
	done
	count=$(num count <"$tmp/p.out")
	took=$(sort -n "$tmp/took" | sed -n 3p)
	wall=$(sort -n "$tmp/wall" | sed -n 3p)
	ratio=$(echo "scale=1; $took / ($base_ms + 0.001)" | bc)
	printf '%-58s %9s %11.1f %9s %9sx\n' "$name" "$count" "$took" "$wall" "$ratio"
done <"$tmp/rules"

# Each rule as an auto tag: creating it applies it to every customer at once
# (the first full pass: all holders added); evaluating it again is the pass
# that finds nothing to change, the steady state of the daily job.
echo
printf '%-58s %9s %12s %12s\n' "auto tag" "holders" "first pass s" "again s"
n=0
while IFS='|' read -r name rule; do
	n=$((n + 1))
	t0=$(date +%s.%N)
	post tags "{\"name\":\"bench-auto-$n\",\"kind\":\"auto\",\"rule\":$rule}" >"$tmp/t.out"
	t1=$(date +%s.%N)
	id=$(num id <"$tmp/t.out" | head -1)
	holders=$(num customer_count <"$tmp/t.out")
	t2=$(date +%s.%N)
	post "tags/$id/evaluate" '{}' >/dev/null
	t3=$(date +%s.%N)
	printf '%-58s %9s %12.2f %12.2f\n' "$name" "$holders" "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)"
done <"$tmp/rules"

# The same rules as audiences too, and the daily pass that re-evaluates them all
n=0
while IFS='|' read -r name rule; do
	n=$((n + 1))
	post audiences "{\"name\":\"bench-audience-$n\",\"rule\":$rule}" >/dev/null
done <"$tmp/rules"
t0=$(date +%s.%N)
post admin/jobs/daily '{}' >"$tmp/daily.out"
t1=$(date +%s.%N)
echo
printf 'daily pass with %d auto tags and %d audiences over %d customers: %.2f s, of which segments %.0f ms\n' \
	"$n" "$n" "$N" "$(echo "$t1 - $t0" | bc)" "$(num segments_ms <"$tmp/daily.out")"
echo "  $(cat "$tmp/daily.out")"
