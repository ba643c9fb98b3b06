#!/bin/sh
# make install into a scratch DESTDIR: the binary runs, the unit names it, config and env file
# land with their modes, and a second install keeps an edited config.
set -eu
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
fail() { echo "install: $*"; exit 1; }
[ -x "$dest/usr/bin/quantd" ] || fail "no /usr/bin/quantd"
"$dest/usr/bin/quantd" version | grep -q '^quantd ' || fail "the installed binary does not run"
unit="$dest/lib/systemd/system/quantd.service"
grep -q '^ExecStart=/usr/bin/quantd serve --config /etc/quantd/quantd.json$' "$unit" || fail "ExecStart"
grep -q '^Type=notify$' "$unit" && grep -q '^WatchdogSec=' "$unit" && grep -q '^ProtectSystem=strict$' "$unit" \
    && grep -q '^EnvironmentFile=' "$unit" && grep -q '^StateDirectory=quantd$' "$unit" || fail "unit settings"
[ "$(stat -c %a "$dest/etc/quantd/quantd.env")" = 600 ] || fail "quantd.env is not 0600"
"$dest/usr/bin/quantd" check-config --config "$dest/etc/quantd/quantd.json" >/dev/null || fail "installed config invalid"
echo '{"server": {"listen": "127.0.0.1:9999"}}' > "$dest/etc/quantd/quantd.json"
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
grep -q 9999 "$dest/etc/quantd/quantd.json" || fail "a reinstall replaced an edited config"
echo "install: binary, unit, config and env file installed as expected"
