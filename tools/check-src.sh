#!/bin/sh
# STYLE.md §2.1 banned calls and §4 include directions, checked on the library sources.
set -eu
dirs="common core features feeds engines jobs storage api daemon"
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gmtime|localtime|rand|system|alloca)\s*\(' \
      $(for d in $dirs; do ls $d/*.c $d/*.h 2>/dev/null; done) | grep -vE 'snprintf|vsnprintf|strtok_r|gmtime_r|localtime_r' || true)
if [ -n "$bad" ]; then
    echo "check-src: banned calls (STYLE.md 2.1):"; echo "$bad"; exit 1
fi
# pure modules include no libpq, libmicrohttpd, libuv or libcurl; feeds/ (the data-source
# clients, DESIGN §2) has libcurl and nothing else; only storage/ has libpq, only api/ has
# microhttpd
layer=$(grep -nE '#include <(libpq-fe|microhttpd|uv|curl/curl)\.h>' common/*.[ch] core/*.[ch] features/*.[ch] engines/*.[ch] 2>/dev/null | grep -v 'common/queue' || true)
layer="$layer$(grep -nE '#include <(libpq-fe|microhttpd|uv)\.h>' feeds/*.[ch] 2>/dev/null || true)"
layer="$layer$(grep -lE '#include <libpq-fe\.h>' api/*.[ch] jobs/*.[ch] daemon/*.[ch] 2>/dev/null | sed 's/^/libpq outside storage: /' || true)"
layer="$layer$(grep -lE '#include <microhttpd\.h>' $(ls common/* core/* features/* engines/* feeds/* jobs/* storage/* daemon/* 2>/dev/null) 2>/dev/null | sed 's/^/microhttpd outside api: /' || true)"
if [ -n "$layer" ]; then
    echo "check-src: include directions (STYLE.md 4):"; echo "$layer"; exit 1
fi
echo "check-src: no banned calls, include directions hold"
