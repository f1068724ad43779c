#!/usr/bin/env bash
# House-rule checks that a compiler does not make (shared/house-rules.md). Exits non-zero on a violation.
#  - only transport/net_*.c (and their private header) include <uv.h>: the event loop stays at the edge;
#  - nothing of ours is named uv_*, iscsi_* or scsi_*: libuv and libiscsi own those prefixes;
#  - every source file of a layer has its unit test file tests/unit/test_<file>.c (reported, not fatal).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bad=0

uv_users="$(grep -rlE '#include\s*[<"]uv\.h[>"]' --include='*.c' --include='*.h' \
    common prstate target transport app tests 2>/dev/null | grep -vE '^transport/net_[a-z_]*\.(c|h)$' || true)"
if [ -n "$uv_users" ]; then
    echo "check.sh: <uv.h> included outside transport/net_*:"
    echo "$uv_users" | sed 's/^/  /'
    bad=1
fi

# Definitions at file scope whose name starts with a reserved prefix: "type name(" at the start of a line.
reserved="$(grep -nE '^[a-z][a-z0-9_ \*]*[ \*](uv|iscsi|scsi)_[a-z0-9_]+\s*\(' \
    $(git ls-files 'common/*.[ch]' 'prstate/*.[ch]' 'target/*.[ch]' 'transport/*.[ch]' 'app/*.[ch]' 'tests/*.[ch]' 2>/dev/null) 2>/dev/null |
    grep -vE ';\s*$' || true)"
if [ -n "$reserved" ]; then
    echo "check.sh: definitions using a prefix owned by libuv/libiscsi (uv_, iscsi_, scsi_):"
    echo "$reserved" | sed 's/^/  /'
    bad=1
fi

missing=""
for f in $(git ls-files 'prstate/*.c' 'target/*.c' 'transport/isc_*.c'); do
    t="tests/unit/test_$(basename "$f")"
    [ -f "$t" ] || missing+=" $f"
done
if [ -n "$missing" ]; then
    echo "check.sh: note: source files without tests/unit/test_<file>.c:$missing"
fi

[ $bad -eq 0 ] && echo "check.sh: OK"
exit $bad
