#!/bin/sh
# Sum up the valgrind reports of make test-valgrind (one per daemon, DIR/PID.log):
# daemons, errors, bytes definitely and possibly lost. Fails on any error or
# definite leak. A report without a summary is a daemon killed with SIGKILL
# (sops.test.mjs does it on purpose): counted apart; a daemon that a test
# stopped and that did not exit cleanly fails that test already.
set -u
dir=${1:-build/valgrind}
n=0 errs=0 def=0 pos=0 bad=0 killed=0
for f in "$dir"/*.log; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -n 1)
	d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
	p=$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
	if [ -z "$e" ]; then
		killed=$((killed + 1))
		continue
	fi
	if [ "$e" -gt 0 ] || [ "${d:-0}" -gt 0 ]; then
		echo "valgrind: $f: $e errors, ${d:-0} bytes definitely lost" >&2
		bad=1
	fi
	errs=$((errs + e))
	def=$((def + ${d:-0}))
	pos=$((pos + ${p:-0}))
done
echo "valgrind: $n daemons ($killed killed, without a summary), $errs errors, $def bytes definitely lost, $pos bytes possibly lost"
[ "$n" -gt 0 ] && [ $bad -eq 0 ]
