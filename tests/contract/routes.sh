#!/bin/sh
# The router's routes (`quantd routes`) and openapi.yaml's (method, path) pairs must be the same
# set. The spec is read with awk: paths are the two-space-indented keys under `paths:`, methods
# the four-space-indented keys under each path.
set -eu
bin=${1:-build/quantd}
spec=${2:-openapi.yaml}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" routes | sort > "$tmp/router"
awk '
    /^paths:/ { inpaths = 1; next }
    /^[^ #]/ { inpaths = 0 }
    inpaths && /^  [^ ].*:$/ { path = $1; sub(/:$/, "", path); next }
    inpaths && /^    (get|put|post|delete|patch|head|options):/ {
        m = $1; sub(/:$/, "", m); print toupper(m) " " path }
' "$spec" | sort > "$tmp/spec"
if ! cmp -s "$tmp/router" "$tmp/spec"; then
    echo "routes: the router and $spec differ:"
    comm -23 "$tmp/router" "$tmp/spec" | sed 's/^/  only in the router:  /'
    comm -13 "$tmp/router" "$tmp/spec" | sed 's/^/  only in the spec:    /'
    exit 1
fi
echo "routes: $(wc -l < "$tmp/router") routes match $spec"
