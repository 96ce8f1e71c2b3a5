#!/bin/sh
# Install the Debian packages scrmd needs that are missing. Usage:
#   install-deps.sh build|test|bench
# Quiet when everything is present; uses sudo when not run as root.
set -eu
want="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev libcurl4-openssl-dev libssl-dev tzdata ca-certificates"
case "${1:-build}" in
  build) ;;
  test)  want="$want libcmocka-dev nodejs sqlite3 curl" ;;
  bench) want="$want wrk sqlite3 curl nodejs bc" ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# nodejs may come from elsewhere than Debian (a newer node on PATH is fine)
case "$missing" in *nodejs*) command -v node >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ nodejs//') ;; esac
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
