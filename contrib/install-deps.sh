#!/bin/sh
# Install the Debian packages scrmd needs that are missing. Usage:
#   install-deps.sh build|test|bench
# Quiet when everything is present; uses sudo when not run as root.
set -eu
want="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev libcurl4-openssl-dev libssl-dev tzdata ca-certificates"
case "${1:-build}" in
  build) want="$want nodejs npm" ;;
  test)  want="$want nodejs npm libcmocka-dev sqlite3 curl fonts-wqy-microhei chromium systemd valgrind wrk" ;;
  bench) want="$want nodejs npm wrk sqlite3 curl bc chromium fonts-wqy-microhei" ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# node and npm may come from elsewhere than Debian (newer ones on PATH are fine)
case "$missing" in *nodejs*) command -v node >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ nodejs//') ;; esac
case "$missing" in *npm*) command -v npm >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ npm//') ;; esac
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
