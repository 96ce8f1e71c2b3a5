#!/bin/sh
# HTTP benchmark: wrk on loopback against GET /healthz, an authenticated JSON
# read (GET /api/v1/users/{id}: token lookup + primary-key read) and an
# authenticated JSON write (PATCH /api/v1/users/{id}: update + audit row, group
# committed), a live code scan (GET /c/{code}: a write, then a 302), the write
# also with batch_max=1 (one commit per request) as the baseline. Prints requests/s, p50 and p99, and each figure's ratio to /healthz.
set -eu
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
DUR=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

start() { # extra INI text
	printf '[store]\nsynchronous = full\n%s\n' "$1" >"$tmp/scrmd.ini"
	rm -f "$tmp/port"
	SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --config "$tmp/scrmd.ini" \
		--listen 127.0.0.1:0 --port-file "$tmp/port" --db "$tmp/scrm.db" 2>"$tmp/daemon.log" &
	pid=$!
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(cat "$tmp/port")
	base="http://127.0.0.1:$port"
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }

# run NAME wrk-args...: prints "name rps p50 p99" into $tmp/results
run() {
	name=$1
	shift
	wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "$@" >"$tmp/wrk.out" 2>&1 || {
		cat "$tmp/wrk.out"
		exit 1
	}
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
	p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
	p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
	errs=$(awk '/Non-2xx or 3xx responses/ {print $5}' "$tmp/wrk.out")
	printf '%s|%s|%s|%s|%s\n' "$name" "$rps" "$p50" "$p99" "${errs:-0}" >>"$tmp/results"
}

start ""
login=$(curl -s -c "$tmp/cj" -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"bench-password-123"}' "$base/api/v1/auth/login")
csrf=$(echo "$login" | sed 's/.*"csrf_token":"\([^"]*\)".*/\1/')
token=$(curl -s -b "$tmp/cj" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"bench","role":"admin"}' "$base/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
auth="Authorization: Bearer $token"

echo "scrmd HTTP benchmark: wrk -t$THREADS -c$CONNS -d${DUR}s on loopback, $(nproc) CPUs, synchronous=full"
run "GET /healthz" "$base/healthz"
run "GET /api/v1/users/1 (token)" -H "$auth" "$base/api/v1/users/1"
run "PATCH /api/v1/users/1 (group commit)" -H "$auth" -s tests/bench/patch_user.lua "$base/api/v1/users/1"
commits=$(curl -s -H "$auth" "$base/metrics" | awk '/^scrmd_db_commits_total/ {print $2}')
writes=$(curl -s -H "$auth" "$base/metrics" | awk '/^scrmd_db_writes_total/ {print $2}')
# a live code: each scan is a write (group committed), then a 302
code=$(curl -s -H "$auth" -H 'Content-Type: application/json' \
	-d '{"name":"bench card","kind":"package_card","units":100000,"contact_url":"https://work.weixin.qq.com/ca/bench"}' \
	"$base/api/v1/channels" | sed 's/.*"code":"\([^"]*\)".*/\1/')
run "GET /c/{code} (scan + 302)" "$base/c/$code"
stop

start "batch_max = 1"
run "PATCH /api/v1/users/1 (1 commit/request)" -H "$auth" -s tests/bench/patch_user.lua "$base/api/v1/users/1"
stop

base_rps=$(awk -F'|' 'NR == 1 {print $2}' "$tmp/results")
printf '\n%-42s %12s %10s %10s %8s %10s\n' "endpoint" "requests/s" "p50" "p99" "non-2xx" "vs healthz"
awk -F'|' -v b="$base_rps" '{
	printf "%-42s %12.0f %10s %10s %8s %9.2fx\n", $1, $2, $3, $4, $5, $2 / b
}' "$tmp/results"
echo
echo "group commit: $writes writes in $commits commits ($(awk -v w="$writes" -v c="$commits" 'BEGIN {printf "%.1f", w / c}') writes per commit)"
g=$(awk -F'|' 'NR == 3 {print $2}' "$tmp/results")
s=$(awk -F'|' 'NR == 5 {print $2}' "$tmp/results")
echo "group commit vs one commit per request: $(awk -v g="$g" -v s="$s" 'BEGIN {printf "%.1fx", g / s}')"
