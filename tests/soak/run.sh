#!/bin/sh
# Load and endurance test (make soak): a mixed workload against one daemon on a
# demo database, at SOAK_CONNECTIONS (256) connections for SOAK_SECONDS (300).
#
# One wrk process per kind of request (tests/soak/mix.lua says what each
# does), the connections shared out by fixed weights: customer reads, searches
# by phone and name, list pages following cursors, new orders, point grants,
# tag adds, audience previews, SOP dry runs, analytics reads and logins. Every
# 5 s the daemon's resident memory (VmRSS, and its anonymous part RssAnon) is
# sampled from /proc/PID/status and printed.
#
# At the end: requests per kind, rate, latency percentiles, answers by status,
# RSS at warm-up (after 60 s, or 20% of a shorter run) and at the end. Fails
# (exit 1) on any 5xx, any wrk socket error (connect, read, write, timeout), any
# ERROR line in the daemon's log, a daemon that does not exit cleanly, or an
# anonymous RSS (RssAnon) at the end above the warm-up's by more than 10% +
# 16 MiB (README, Development: why that margin, and why not VmRSS).
#
#   SOAK_SECONDS (300)  SOAK_CONNECTIONS (256)  SOAK_CUSTOMERS (100000)
#   SOAK_TIMEOUT (10)   wrk's timeout per request, in seconds
#   SOAK_DB             a demo database to copy instead of making one
#   SCRM_BIN            the daemon (build/scrmd)
set -u
cd "$(dirname "$0")/../.."
BIN=${SCRM_BIN:-build/scrmd}
SECS=${SOAK_SECONDS:-300}
CONNS=${SOAK_CONNECTIONS:-256}
N=${SOAK_CUSTOMERS:-100000}
TIMEOUT=${SOAK_TIMEOUT:-10}
MARGIN_PCT=10
MARGIN_KB=$((16 * 1024))
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { echo "soak: wrk is missing (make bench-deps)" >&2; exit 1; }

# the database: demo data, and what the workload draws from it
db="$tmp/scrm.db"
t0=$(date +%s)
if [ -n "${SOAK_DB:-}" ]; then
	cp "$SOAK_DB" "$db"
else
	"$BIN" demo-data --customers "$N" --seed 42 --db "$db" >"$tmp/demo.log" 2>&1 || {
		cat "$tmp/demo.log" >&2
		exit 1
	}
fi
N=$(sqlite3 "$db" "SELECT max(id) FROM customers")
sqlite3 "$db" "SELECT phone FROM customers WHERE phone IS NOT NULL ORDER BY random() LIMIT 20000" >"$tmp/phones"
sqlite3 "$db" "SELECT name FROM customers WHERE name IS NOT NULL AND name <> '' ORDER BY random() LIMIT 5000" >"$tmp/names"
echo "soak: $(sqlite3 "$db" "SELECT count(*) FROM customers") demo customers," \
	"$(sqlite3 "$db" "SELECT count(*) FROM orders") orders ($(($(date +%s) - t0)) s to make)"

# the daemon: as in production but on loopback, logging at info
cat >"$tmp/scrmd.ini" <<EOF
[general]
log_level = info
EOF
SCRM_ADMIN_PASSWORD=soak-admin-password "$BIN" serve --config "$tmp/scrmd.ini" \
	--listen 127.0.0.1:0 --port-file "$tmp/port" --db "$db" --web-root web 2>"$tmp/daemon.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$tmp/port" ] || { echo "soak: the daemon did not start" >&2; cat "$tmp/daemon.log" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$tmp/port")"
token=$("$BIN" token create --name soak --role admin --db "$db" 2>/dev/null)
auth="Authorization: Bearer $token"

# four login users (logins are not limited, only failed ones are; each user
# logs in at most once a second per connection), three tags
password=soak-user-password-1
users=""
for u in soak1 soak2 soak3 soak4; do
	curl -sf -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$u\",\"role\":\"operator\",\"password\":\"$password\"}" "$base/api/v1/users" ||
		{ echo "soak: cannot create user $u" >&2; exit 1; }
	users="$users${users:+,}$u"
done
tags=""
for t in 1 2 3; do
	id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' -d "{\"name\":\"soak-$t\"}" \
		"$base/api/v1/tags" | sed 's/.*"id":\([0-9]*\).*/\1/')
	[ -n "$id" ] || { echo "soak: cannot create tag" >&2; exit 1; }
	tags="$tags${tags:+,}$id"
done

# kinds and their weights: the connections are shared out in proportion
# (at least one each), the rest going to reads
KINDS="read:64 search:32 list:32 order:32 points:24 tag:24 preview:16 dryrun:8 analytics:16 login:8"
wsum=0
for kw in $KINDS; do wsum=$((wsum + ${kw#*:})); done
left=$CONNS
plan=""
for kw in $KINDS; do
	k=${kw%%:*}
	c=$((CONNS * ${kw#*:} / wsum))
	[ $c -lt 1 ] && c=1
	plan="$plan $k:$c"
	left=$((left - c))
done
plan=$(echo "$plan" | awk -v extra=$left '{ split($1, a, ":"); $1 = a[1] ":" (a[2] + extra); print }')

warm=60
[ $((SECS / 5)) -lt $warm ] && warm=$((SECS / 5))
[ $warm -lt 5 ] && warm=5
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status" 2>/dev/null; }
rss_start=$(rss VmRSS)
echo "soak: $CONNS connections for $SECS s ($plan ), wrk timeout ${TIMEOUT} s, $(nproc) CPUs;" \
	"daemon RSS at start $((rss_start / 1024)) MiB"

export SOAK_CUSTOMERS=$N SOAK_PHONES="$tmp/phones" SOAK_NAMES="$tmp/names" SOAK_TAGS="$tags" \
	SOAK_USERS="$users" SOAK_PASSWORD="$password" SOAK_RUN="$(date +%s)"
wrks=""
for kc in $plan; do
	k=${kc%%:*}
	c=${kc#*:}
	h="$auth"
	[ "$k" = login ] && h="X-Soak: login"
	SOAK_KIND=$k wrk -t1 -c"$c" -d"${SECS}s" --timeout "${TIMEOUT}s" --latency -H "$h" \
		-s tests/soak/mix.lua "$base" >"$tmp/wrk-$k.out" 2>&1 &
	wrks="$wrks $!"
done

# RSS every 5 s while wrk runs
t=0
rss_warm=""
: >"$tmp/rss"
while [ $t -lt "$SECS" ]; do
	sleep 5
	t=$((t + 5))
	v=$(rss VmRSS)
	a=$(rss RssAnon)
	[ -n "$v" ] || { echo "soak: the daemon is gone" >&2; break; }
	echo "$t $v $a" >>"$tmp/rss"
	awk -v t=$t -v v="$v" -v a="$a" 'BEGIN {printf "soak: %4d s  VmRSS %6.1f MiB  RssAnon %6.1f MiB\n", t, v / 1024, a / 1024}'
	[ -z "$rss_warm" ] && [ $t -ge $warm ] && rss_warm=$v && anon_warm=$a
done
for w in $wrks; do wait "$w"; done
rss_end=$(rss VmRSS)
anon_end=$(rss RssAnon)
gone=""
[ -n "$rss_end" ] || gone=1
: "${rss_warm:=0}" "${anon_warm:=0}" "${rss_end:=0}" "${anon_end:=0}"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""

fail=0
flag() {
	echo "SOAK FAILED: $*"
	fail=1
}
[ -n "$gone" ] && flag "the daemon died during the run"

# the figures, per kind
printf '\n%-10s %6s %10s %9s %9s %9s %9s %9s  %s\n' kind conns requests req/s p50 p90 p99 max "answers by status"
total=0
for kc in $plan; do
	k=${kc%%:*}
	o="$tmp/wrk-$k.out"
	req=$(awk '/requests in/ {print $1}' "$o")
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$o")
	p50=$(awk '$1 == "50%" {print $2}' "$o")
	p90=$(awk '$1 == "90%" {print $2}' "$o")
	p99=$(awk '$1 == "99%" {print $2}' "$o")
	max=$(awk '$1 == "Latency" {print $4}' "$o")
	st=$(awk '$1 == "status" {printf "%s%s: %s", sep, $2, $3; sep = ", "}' "$o")
	printf '%-10s %6s %10s %9s %9s %9s %9s %9s  %s\n' "$k" "${kc#*:}" "${req:-?}" "${rps:-?}" "${p50:-?}" \
		"${p90:-?}" "${p99:-?}" "${max:-?}" "$st"
	[ -n "$req" ] || { flag "wrk for $k reported nothing:"; cat "$o"; continue; }
	total=$((total + req))
	if grep -q 'Socket errors' "$o"; then flag "$k: $(grep 'Socket errors' "$o" | sed 's/^ *//')"; fi
	x5=$(awk '$1 == "status" && $2 >= 500 {s += $3} END {print s + 0}' "$o")
	[ "$x5" -gt 0 ] && flag "$k: $x5 answers 5xx"
	if [ "$k" != login ]; then
		other=$(awk '$1 == "status" && ($2 < 200 || $2 >= 300) {s += $3} END {print s + 0}' "$o")
		[ "$other" -gt 0 ] && echo "note: $k: $other answers not 2xx"
	fi
done
echo "total: $total requests in $SECS s, $((total / SECS)) requests/s"

# memory: the anonymous part is judged (heap, stacks); VmRSS adds the pages
# of the memory-mapped database, which the kernel maps and drops as it likes
limit=$((anon_warm + anon_warm * MARGIN_PCT / 100 + MARGIN_KB))
printf 'RSS: start %d MiB; warm-up (%d s) VmRSS %d MiB, RssAnon %d MiB; end VmRSS %d MiB, RssAnon %d MiB (limit %d MiB)\n' \
	$((rss_start / 1024)) "$warm" $((rss_warm / 1024)) $((anon_warm / 1024)) $((rss_end / 1024)) \
	$((anon_end / 1024)) $((limit / 1024))
[ "$anon_end" -gt "$limit" ] &&
	flag "RssAnon grew from $((anon_warm / 1024)) MiB at warm-up to $((anon_end / 1024)) MiB (over 10% + 16 MiB)"

# the daemon's log and exit
errs=$(grep -c ' ERROR ' "$tmp/daemon.log")
if [ "$errs" -gt 0 ]; then
	flag "$errs ERROR lines in the daemon log:"
	grep ' ERROR ' "$tmp/daemon.log" | head -20
fi
[ $rc -eq 0 ] || { flag "the daemon exited with status $rc"; tail -n 20 "$tmp/daemon.log"; }
echo "daemon log: $(wc -l <"$tmp/daemon.log") lines, $(grep -c ' WARN ' "$tmp/daemon.log") WARN, $errs ERROR"
[ -n "${SOAK_KEEP_LOG:-}" ] && cp "$tmp/daemon.log" "$SOAK_KEEP_LOG"
if [ $fail -ne 0 ]; then
	echo "soak: FAILED"
	exit 1
fi
echo "soak: passed"
