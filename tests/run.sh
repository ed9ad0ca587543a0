#!/bin/sh
# Runs every Criterion test binary under BUILD/tests: unit suites first, then
# the integration suites (which start their own redis-server and broker).
# usage: tests/run.sh BUILD [PATTERN]
#
# Each suite's output goes to the terminal and to BUILD/test-logs/; at the
# end, the failures of every failed suite are printed again, so that the
# last lines of a long run (all a CI summary may keep) say what failed.
set -u
build=${1:-build}
pattern=${2:-}
failed=""
total=0
start=$(date +%s)
logs="$build/test-logs"
mkdir -p "$logs"
exec 4>&1 # the terminal, for tee inside $( )

run_dir() {
    dir=$1
    jobs=$2
    [ -d "$build/tests/$dir" ] || return 0
    for t in $(find "$build/tests/$dir" -type f -perm -u+x -name 'test_*' | sort); do
        case "$t" in *"$pattern"*) ;; *) continue ;; esac
        # A binary left by a suite whose source is gone is not a suite.
        if [ ! -f "tests/$dir/$(basename "$t").c" ]; then
            echo "== $t: skipped, no tests/$dir/$(basename "$t").c (stale build output)"
            continue
        fi
        total=$((total + 1))
        echo "== $t"
        log="$logs/$(basename "$t").log"
        # The suite's status, through the pipe to tee.
        status=$( { { "$t" --jobs "$jobs" --short-filename 2>&1 3>&- 4>&-; echo $? >&3; } | tee "$log" >&4; } 3>&1 )
        if [ "$status" != 0 ]; then
            failed="$failed $t"
        fi
    done
}

# Integration suites run two tests at a time, unless FF_INTEGRATION_JOBS says
# otherwise: make asan runs them one at a time, because two fault tests at
# once under ASan on two cores starve the processors they restart.
run_dir common 2
run_dir processors 2
run_dir tools 2
run_dir integration "${FF_INTEGRATION_JOBS:-2}"

echo "== $total suites in $(( $(date +%s) - start ))s"
if [ -n "$failed" ]; then
    for t in $failed; do
        log="$logs/$(basename "$t").log"
        echo "== failures in $t (whole output: $log)"
        # Criterion's failure lines, a sanitizer's report, a crash or timeout.
        grep -E '^\[(----|FAIL)\]|ERROR: (Address|Leak|Undefined)|runtime error|Crash|Timed out|Warning! The test' "$log" | tail -n 40
        # The post-mortems a suite printed (the last lines of a processor's
        # log, of the broker's): a CI log may keep nothing else of the run.
        awk '/^---- .*, last [0-9]+ lines:$/ { p = 1 } p { print } /^$/ { p = 0 }' "$log" | tail -n 120
    done
    echo "FAILED:$failed"
    exit 1
fi
echo "all suites passed"
