#!/usr/bin/env bash
# Every test of prtarget: installs what is missing, builds plain (build/) and with AddressSanitizer +
# UndefinedBehaviorSanitizer (build-asan/), runs the unit, integration and fuzz-seed tests in both, then the
# iscsi-test-cu conformance run on both builds. Exits non-zero on any failure; the last line is always
# "N passed, N failed".
#   scripts/test.sh [--no-asan] [--no-conformance]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${PRT_JOBS:-2}"
do_asan=1
do_conf=1
for a in "$@"; do
    case "$a" in
        --no-asan) do_asan=0 ;;
        --no-conformance) do_conf=0 ;;
        *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

passed=0
failed=0
failures=()

summary() {
    if [ ${#failures[@]} -gt 0 ]; then
        echo "test.sh: failed steps:"
        printf '  %s\n' "${failures[@]}"
    fi
    echo "$passed passed, $failed failed"
}

step_fail() {
    failed=$((failed + 1))
    failures+=("$1")
}

"$root/scripts/setup.sh" || { step_fail "setup.sh"; summary; exit 1; }

# Configure, build and ctest one build directory; adds ctest's pass/fail counts to the totals.
run_build() {
    local dir="$1"; shift
    local name
    name="$(basename "$dir")"
    echo "== $name: configure and build"
    if ! cmake -S "$root" -B "$dir" "$@" >"$dir.configure.log" 2>&1; then
        cat "$dir.configure.log"
        step_fail "$name: configure"
        return 1
    fi
    if ! cmake --build "$dir" -j"$jobs"; then
        step_fail "$name: build"
        return 1
    fi
    echo "== $name: ctest (unit, integration, fuzz seeds)"
    local log="$dir/ctest.log"
    (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 600) 2>&1 | tee "$log"
    local line p f t
    line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)"
    if [ -z "$line" ]; then
        step_fail "$name: ctest did not finish"
        return 1
    fi
    f="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    t="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
    p=$((t - f))
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        while IFS= read -r l; do failures+=("$name: $l"); done < <(grep -E '^\s+[0-9]+ - ' "$log" | sed -E 's/^\s+//')
    fi
    if [ "$t" -eq 0 ]; then
        step_fail "$name: no tests registered"
    fi
    return 0
}

# PRT_BUILD_DIR / PRT_ASAN_BUILD_DIR let a developer run the whole suite without touching build/ (CI's).
plain_dir="${PRT_BUILD_DIR:-$root/build}"
asan_dir="${PRT_ASAN_BUILD_DIR:-$root/build-asan}"
mkdir -p "$plain_dir" "$asan_dir"
start=$(date +%s)
echo "== house-rule checks"
if "$root/scripts/check.sh"; then passed=$((passed + 1)); else step_fail "check.sh"; fi
run_build "$plain_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
plain_ok=$?
if [ $do_asan -eq 1 ]; then
    run_build "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRT_SANITIZE=address,undefined
fi
if [ $do_conf -eq 1 ]; then
    if [ $plain_ok -eq 0 ] && [ -x "$plain_dir/app/prtarget" ]; then
        echo "== conformance (iscsi-test-cu) on $(basename "$plain_dir")/"
        if PRTARGET="$plain_dir/app/prtarget" "$root/scripts/conformance.sh"; then
            passed=$((passed + 1))
        else
            step_fail "conformance.sh (regression or stale tests/conformance/expected.txt)"
        fi
    else
        step_fail "conformance.sh: no plain build to run it on"
    fi
    # The same suite against the sanitizer build: iscsi-test-cu drives corners of the target no unit test
    # reaches, and any ASan/UBSan report kills prtarget, which conformance.sh reports as a crash.
    if [ $do_asan -eq 1 ] && [ -x "$asan_dir/app/prtarget" ]; then
        echo "== conformance (iscsi-test-cu) on $(basename "$asan_dir")/"
        if PRTARGET="$asan_dir/app/prtarget" "$root/scripts/conformance.sh"; then
            passed=$((passed + 1))
        else
            step_fail "conformance.sh on $(basename "$asan_dir")"
        fi
    fi
fi
echo "test.sh: finished in $(( $(date +%s) - start )) s"
summary
[ "$failed" -eq 0 ]
