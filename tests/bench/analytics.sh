#!/bin/sh
# Analytics benchmark on the demo data (default 1,000,000 customers): the wall
# time of every GET /analytics/* endpoint over three ranges (all time, the last
# 90 days, one month), median and slowest of 7 runs, as a curl client sees it;
# and the time to work every figure out again from the records (what an upgrade
# or a time-zone change costs once). BENCH_DB reuses a demo database made by
# run.sh.
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
echo "scrmd analytics benchmark: $N demo customers, $(sqlite3 "$db" 'SELECT count(*) FROM orders') orders," \
	"$(sqlite3 "$db" 'SELECT count(*) FROM group_members') group members," \
	"$(sqlite3 "$db" 'SELECT count(*) FROM commissions' 2>/dev/null || echo 0) commissions, $(nproc) CPUs"

# a rebuild from the records, as after an upgrade: drop the stamp, migrate
sqlite3 "$db" "DELETE FROM settings WHERE key = 'analytics.stamp'"
t0=$(date +%s.%N)
"$BIN" migrate --db "$db" >/dev/null 2>&1
t1=$(date +%s.%N)
printf 'rebuild of every figure from the records: %.1f s\n' "$(echo "$t1 - $t0" | bc)"
echo "daily tables: $(sqlite3 "$db" 'SELECT count(*) FROM analytics_order_days') order-day rows," \
	"$(sqlite3 "$db" 'SELECT count(*) FROM analytics_customer_days') customer-day rows," \
	"$(sqlite3 "$db" 'SELECT count(*) FROM analytics_gaps') gap rows," \
	"$(sqlite3 "$db" 'SELECT count(*) FROM analytics_cohorts') cohort rows"

mark() { sqlite3 "$db" "SELECT value FROM settings WHERE key = 'daily_pass'" 2>/dev/null || true; }
mark0=$(mark)
SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--db "$db" 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/daemon.log" >&2; exit 1; }
	sleep 0.05
	i=$((i + 1))
done
base="http://127.0.0.1:$(cat "$tmp/port")"
# a daemon's first start of the day runs the daily pass: measure after it, alone
i=0
while [ $i -lt 3000 ] && ! grep -q 'daily pass' "$tmp/daemon.log"; do
	[ $i -ge 60 ] && [ "$(mark)" = "$mark0" ] && break # not due: nothing runs
	sleep 0.1
	i=$((i + 1))
done
token=$("$BIN" token create --name bench-analytics --role admin --db "$db" 2>/dev/null)

# the demo data ends today: ranges relative to today in the business zone
today=$(TZ=Asia/Shanghai date +%Y-%m-%d)
d90=$(TZ=Asia/Shanghai date -d "$today - 90 days" +%Y-%m-%d)
m1=$(TZ=Asia/Shanghai date -d "$today - 2 months" +%Y-%m-01)
m2=$(TZ=Asia/Shanghai date -d "$m1 + 1 month" +%Y-%m-01)

printf '\n%-34s %-24s %9s %9s %9s\n' "endpoint" "range" "median ms" "max ms" "bytes"
worst=0
for ep in overview repurchase 'repurchase?period=quarter' channels funnel operators groups ambassadors cohorts; do
	for range in all "$d90..$today" "$m1..$m2"; do
		case $range in
		all) q="" ;;
		*) q="from=${range%%..*}&to=${range##*..}" ;;
		esac
		case $ep in
		*\?*) url="$base/api/v1/analytics/$ep${q:+&$q}" ;;
		*) url="$base/api/v1/analytics/$ep${q:+?$q}" ;;
		esac
		: >"$tmp/ms"
		for _ in 1 2 3 4 5 6 7; do
			curl -s -o "$tmp/body" -w '%{time_total}\n' -H "Authorization: Bearer $token" "$url" |
				awk '{printf "%.1f\n", $1 * 1000}' >>"$tmp/ms"
		done
		med=$(sort -n "$tmp/ms" | sed -n 4p)
		max=$(sort -n "$tmp/ms" | tail -1)
		printf '%-34s %-24s %9s %9s %9s\n' "$ep" "$range" "$med" "$max" "$(wc -c <"$tmp/body")"
		worst=$(echo "$med $worst" | awk '{print ($1 > $2) ? $1 : $2}')
	done
done
echo "slowest median: $worst ms (the goal: under 500 ms each)"
