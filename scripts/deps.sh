#!/bin/sh
# Usage: deps.sh PKG...  Installs the Debian packages that are missing (as root), else prints
# the apt-get line. Fast when everything is present: no network.
# A name written PKG:CMD counts as present when the command CMD is on the PATH (node and npm may
# come from another packaging of Node.js than Debian's).
set -eu
missing=""
for arg in "$@"; do
    p=${arg%%:*}
    if [ "$p" != "$arg" ] && command -v "${arg#*:}" >/dev/null 2>&1; then
        continue
    fi
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "deps: missing Debian packages; run as root:"
    echo "  apt-get install -y$missing"
    exit 1
fi
