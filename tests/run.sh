#!/bin/sh
# Run every test suite and end with one line: "N passed, N failed".
#   unit tests (cmocka)            build/unit/*       and build/unit-asan/* (ASan+UBSan)
#   API tests against real daemons  build/scrmd        and build/scrmd-asan,
#                                   build/scrmd-tsan (ThreadSanitizer)
#   crash safety and backup drill   tests/crash/, CRASH_CYCLES (5) kill -9 cycles, both binaries
#   the libFuzzer harnesses         build/fuzz/fuzz_*, FUZZ_TEST_SECONDS (12) each
#   the dashboard in a browser      tests/e2e/ (headless Chromium against build/scrmd)
#   load and endurance, short       tests/soak/ (20 s, 64 connections, 20,000 customers)
# A suite binary that crashes counts as a failure even if it printed no result.
set -u
cd "$(dirname "$0")/.."
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}"

# count TAP lines of one run: appends "pass fail" to $results/counts
tally() { # name, tapfile, exitcode
	p=$(grep -c '^ok ' "$2" || true)
	f=$(grep -c '^not ok ' "$2" || true)
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAILED: $1 exited with status $3 without reporting a failing test" >&2
		tail -n 40 "$2" >&2
	fi
	echo "$p $f" >>"$results/counts"
	printf '%-44s %4d passed, %d failed\n' "$1" "$p" "$f"
}

run_units() { # dir label
	for t in "$1"/test_*; do
		[ -x "$t" ] || continue
		name="$2/$(basename "$t")"
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$results/out" 2>&1
		rc=$?
		grep '^not ok' "$results/out" >&2 || true
		[ $rc -ne 0 ] && grep -A30 -E '^#|ERROR|runtime error' "$results/out" | head -60 >&2
		tally "$name" "$results/out" $rc
	done
}

# a libFuzzer harness for FUZZ_TEST_SECONDS (12) from its seed corpus: one
# test, passed when nothing crashed, leaked or broke its checks
run_fuzz() { # name
	f=build/fuzz/$1
	x=${1#fuzz_}
	label="fuzz/$1"
	mkdir -p "$results/corpus-$1" build/fuzz/artifacts
	if [ ! -x "$f" ]; then
		echo "FAILED: $f is missing (make fuzz-build)" >&2
		rc=1
	else
		set -- "$f" -max_total_time="${FUZZ_TEST_SECONDS:-12}" -max_len=16384 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/artifacts/"$1"- "$results/corpus-$1"
		[ -f "tests/fuzz/$x.dict" ] && set -- "$@" -dict="tests/fuzz/$x.dict"
		[ -d "tests/fuzz/corpus/$x" ] && set -- "$@" "tests/fuzz/corpus/$x"
		"$@" >"$results/fuzz.log" 2>&1
		rc=$?
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$results/fuzz.log")
		cov=$(grep -o 'cov: [0-9]*' "$results/fuzz.log" | tail -n 1 | cut -d' ' -f2)
		label="$label (${runs:-?} runs, cov ${cov:-?})"
		if [ $rc -ne 0 ]; then
			grep -A40 -E '^fuzz:|ERROR|runtime error' "$results/fuzz.log" | head -60 >&2
			ls -t build/fuzz/artifacts/ | head -n 1 | sed 's|^|crash input: build/fuzz/artifacts/|' >&2
		fi
	fi
	if [ $rc -eq 0 ]; then echo "1 0" >>"$results/counts"; p=1 f=0; else echo "0 1" >>"$results/counts"; p=0 f=1; fi
	printf '%-44s %4d passed, %d failed\n' "$label" "$p" "$f"
}

# the load and endurance test, short (make soak runs it for minutes): one
# test, passed when tests/soak/run.sh passes
run_soak() { # label
	SOAK_SECONDS=20 SOAK_CONNECTIONS=64 SOAK_CUSTOMERS=20000 sh tests/soak/run.sh >"$results/soak.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then echo "1 0" >>"$results/counts"; p=1 f=0; else echo "0 1" >>"$results/counts"; p=0 f=1; fi
	[ $rc -ne 0 ] && tail -n 40 "$results/soak.log" >&2
	label="$1 ($(sed -n 's/^total: \([0-9]*\) requests in .*/\1 requests/p' "$results/soak.log"))"
	printf '%-44s %4d passed, %d failed\n' "$label" "$p" "$f"
}

# tally a node:test TAP run: its "# pass" and "# fail" totals; a run that
# exited non-zero without a failing test counts one failure; failures shown
tally_tap() { # label tapfile exitcode
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$2" | tail -n 1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$2" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$3" -ne 0 ]; then
		grep -B2 -A40 -E '^ *not ok ' "$2" | head -300 >&2
		if [ "$f" -eq 0 ]; then
			f=1
			tail -n 40 "$2" >&2
		fi
	fi
	echo "$p $f" >>"$results/counts"
	printf '%-44s %4d passed, %d failed\n' "$1" "$p" "$f"
}

run_api() { # binary label
	SCRM_BIN="$1" node --test --test-concurrency=2 --test-reporter=tap tests/api/ \
		>"$results/api.tap" 2>&1
	tally_tap "$2" "$results/api.tap" $?
}

# kill -9 under write load, CRASH_CYCLES (5) cycles, and the backup drill
# (tests/crash/; `make test-crash` runs 50 cycles)
run_crash() { # binary label
	CRASH_CYCLES="${CRASH_CYCLES:-5}" SCRM_BIN="$1" node --test --test-reporter=tap tests/crash/ \
		>"$results/crash.tap" 2>&1
	tally_tap "$2" "$results/crash.tap" $?
}

# the dashboard's journeys in headless Chromium (Debian's chromium package,
# driven by playwright-core from tests/e2e/node_modules), against build/scrmd
# serving web/
run_e2e() { # label
	chromium=${CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}
	rm -f tests/e2e/screenshots/FAILED-*.png # a failed test's page, from the last run
	SCRM_BIN=build/scrmd CHROMIUM="$chromium" node --test --test-concurrency=2 --test-reporter=tap tests/e2e/ \
		>"$results/e2e.tap" 2>&1
	tally_tap "$1" "$results/e2e.tap" $?
}

run_units build/unit unit
run_units build/unit-asan unit-asan
# every harness (seven: about 85 s in all at 12 s each)
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] && [ -f "$f" ] && run_fuzz "$(basename "$f")"
done
run_api build/scrmd api
run_api build/scrmd-asan api-asan
run_api build/scrmd-tsan api-tsan
run_crash build/scrmd crash
run_crash build/scrmd-asan crash-asan
run_soak soak
run_e2e e2e

passed=$(awk '{s+=$1} END {print s+0}' "$results/counts")
failed=$(awk '{s+=$2} END {print s+0}' "$results/counts")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
