#!/bin/sh
# Dashboard benchmark on the demo data (default 1,000,000 customers): first
# render of the overview and of the customer list in headless Chromium, and the
# bytes a first load moves (tests/bench/web.mjs). BENCH_DB reuses a demo
# database made by run.sh.
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
# a bench user with a known password
"$BIN" user add bench-web --role viewer --db "$db" >/dev/null 2>&1 <<EOF || true
bench-web-password-123
EOF
printf 'bench-web-password-123\n' | "$BIN" user passwd bench-web --db "$db" >/dev/null 2>&1
SCRM_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--db "$db" --web-root web 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/daemon.log" >&2; exit 1; }
	sleep 0.05
	i=$((i + 1))
done
js=$(cat web/assets/*.js | wc -c)
echo "scrmd dashboard benchmark: $(sqlite3 "$db" 'SELECT count(*) FROM customers') customers;" \
	"all $(ls web/assets/*.js | wc -l) scripts $js B, the shell main.js $(wc -c <web/assets/main.js) B, main.css $(wc -c <web/assets/main.css) B"
node tests/bench/web.mjs "http://127.0.0.1:$(cat "$tmp/port")" bench-web bench-web-password-123
