#!/bin/sh
# All benchmarks; figures and ratios, never pass/fail.
set -eu
cd "$(dirname "$0")"
for b in http.sh records.sh; do
	sh "./$b"
	echo
done
