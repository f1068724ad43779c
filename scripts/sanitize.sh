#!/usr/bin/env bash
# Build with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, or $1) and run the unit, integration
# and fuzz-seed tests under it. Any sanitizer report fails the test that triggered it (-fno-sanitize-recover).
#   scripts/sanitize.sh [BUILD_DIR] [ctest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build-asan}"
shift || true
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRT_SANITIZE=address,undefined >/dev/null
cmake --build "$dir" -j"${PRT_JOBS:-2}"
cd "$dir" && ctest -j"${PRT_JOBS:-2}" --output-on-failure "$@"
