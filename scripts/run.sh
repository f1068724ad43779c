#!/usr/bin/env bash
# Install what is missing, build prtarget (build/), and start it. Without arguments it serves the default
# in-memory 1 GiB LU 0 on 127.0.0.1:3260; any arguments are passed to prtarget (see prtarget --help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" >&2
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j2 --target prtarget >&2
exec "$root/build/app/prtarget" "$@"
