#!/bin/sh
# Runs every Criterion test binary under BUILD/tests: unit suites first, then
# the integration suites (which start their own redis-server and broker).
# usage: tests/run.sh BUILD [PATTERN]
set -u
build=${1:-build}
pattern=${2:-}
failed=""
total=0
start=$(date +%s)

run_dir() {
    dir=$1
    jobs=$2
    [ -d "$build/tests/$dir" ] || return 0
    for t in $(find "$build/tests/$dir" -type f -perm -u+x -name 'test_*' | sort); do
        case "$t" in *"$pattern"*) ;; *) continue ;; esac
        total=$((total + 1))
        echo "== $t"
        if ! "$t" --jobs "$jobs" --short-filename; then
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
    echo "FAILED:$failed"
    exit 1
fi
echo "all suites passed"
