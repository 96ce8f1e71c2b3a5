#!/bin/sh
# SOP benchmark: a SOP that reaches 100,000 customers (BENCH_SOP_CUSTOMERS) with
# a signed webhook message each, fired at once (run-now), delivered to a local
# receiver. Prints how fast the scheduler fires the runs, how fast the senders
# deliver (per minute), and the lag from due time to sending (p50/p99/max).
set -eu
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
N=${BENCH_SOP_CUSTOMERS:-100000}
tmp=$(mktemp -d)
pid=""
sink=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$sink" ] && kill "$sink" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

db="$tmp/scrm.db"
"$BIN" demo-data --customers "$N" --seed 7 --db "$db" >/dev/null 2>&1
node tests/bench/sink.mjs "$tmp/count" >"$tmp/sink.port" &
sink=$!
i=0
while [ ! -s "$tmp/sink.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat >"$tmp/scrmd.ini" <<INI
[notify]
senders = ${BENCH_SENDERS:-4}
poll_ms = 50
[sop]
tick_ms = 200
INI
SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--db "$db" --config "$tmp/scrmd.ini" 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
while ! grep -q 'daily pass' "$tmp/daemon.log" && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
base="http://127.0.0.1:$(cat "$tmp/port")"
token=$("$BIN" token create --name bench-sops --role admin --db "$db" 2>/dev/null)
post() { curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$2" "$base/api/v1/$1"; }
num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
ch=$(post message-channels "{\"name\":\"bench\",\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:$(cat "$tmp/sink.port")/hook\"}" | num id | head -1)
sop=$(post sops "{\"name\":\"bench\",\"enabled\":false,\"trigger\":{\"type\":\"schedule\",\"cron\":\"0 0 1 1 *\"},\"audience\":{\"field\":\"days_since_created\",\"op\":\">=\",\"value\":0},\"actions\":[{\"type\":\"message\",\"channel_id\":$ch,\"template\":\"{{name}}，您有{{points_balance}}积分，会员日全场9折\"}]}" | num id | head -1)
ms() { date +%s%3N; }
t0=$(ms)
runs=$(post "sops/$sop/run-now" '{}' | num runs)
t1=$(ms)
echo "scrmd SOP benchmark: $N demo customers, $(nproc) CPUs, ${BENCH_SENDERS:-4} senders"
echo "run-now: $runs runs created in $((t1 - t0)) ms"
fired_at=""
while :; do
	left=$(sqlite3 "$db" ".timeout 5000" "SELECT count(*) FROM sop_runs WHERE status = 'scheduled'")
	[ -z "$fired_at" ] && [ "$left" = 0 ] && fired_at=$(ms)
	got=$(cat "$tmp/count" 2>/dev/null || echo 0)
	[ "$got" -ge "$runs" ] && break
	[ $(($(ms) - t0)) -gt 900000 ] && { echo "timed out: $got of $runs delivered"; break; }
	sleep 0.2
done
t2=$(ms)
[ -z "$fired_at" ] && fired_at=$t2
fire_s=$(echo "scale=2; ($fired_at - $t1) / 1000" | bc)
send_s=$(echo "scale=2; ($t2 - $t0) / 1000" | bc)
echo "scheduler: every run fired in ${fire_s} s ($(echo "$runs * 1000 / ($fired_at - $t1 + 1)" | bc) runs/s; actions and outbox rows in the same transactions)"
echo "delivered: $(cat "$tmp/count") messages in ${send_s} s: $(echo "$runs * 60000 / ($t2 - $t0 + 1)" | bc) per minute"
sqlite3 "$db" ".timeout 5000" "
WITH lag AS (SELECT d.delivered_at - r.due_at AS s, row_number() OVER (ORDER BY d.delivered_at - r.due_at) AS k,
  count(*) OVER () AS n FROM deliveries d JOIN sop_runs r ON r.id = json_extract(d.payload, '\$.sop_run_id')
  WHERE d.status = 'delivered')
SELECT 'lag from due time to sent: p50 ' || (SELECT s FROM lag WHERE k = (n + 1) / 2) || ' s, p99 ' ||
  (SELECT s FROM lag WHERE k = (n * 99 + 99) / 100) || ' s, max ' || (SELECT max(s) FROM lag) || ' s'
FROM lag LIMIT 1;"
echo "outbox: $(sqlite3 "$db" "SELECT group_concat(status || ' ' || n, ', ') FROM (SELECT status, count(*) AS n FROM deliveries GROUP BY status)")"
