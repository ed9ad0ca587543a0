#!/bin/sh
# Runs the unit suites, and the integration suites that drive the processors,
# under valgrind's memcheck: any invalid read or write, use of an
# uninitialised value, or definitely or indirectly lost block fails.
# usage: tests/valgrind.sh BUILD   (make valgrind builds BUILD first)
#
# The unit suites run whole under valgrind (Criterion's test workers too).
# For the integration suites the test binaries run natively and the
# processors they start run under valgrind (FOOTFALL_PROC_WRAPPER, read by
# tools/stack.c), so the real binaries go through the customer journeys,
# the shelf rules and bad input, and are stopped with SIGTERM as in
# production. Every process valgrind watched leaves a report in
# BUILD/valgrind-logs; the ones with errors are printed at the end.
set -u
build=${1:-build/valgrind}
logs="$build/valgrind-logs"
rm -rf "$logs"
mkdir -p "$logs"
start=$(date +%s)
vg="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --num-callers=30"
failed=""

for t in $(find "$build/tests/common" "$build/tests/processors" -type f -perm -u+x -name 'test_*' | sort); do
    [ -f "tests/${t#"$build"/tests/}.c" ] || continue
    echo "== $t (under valgrind)"
    # shellcheck disable=SC2086 # $vg is words
    if ! $vg --trace-children=yes --log-file="$logs/$(basename "$t").%p.txt" "$t" --short-filename; then
        failed="$failed $t"
    fi
done

# One suite at a time: a processor under valgrind is 20 to 50 times slower,
# and two suites' processors on two cores would starve each other.
for suite in test_journeys test_shelf test_bad_input; do
    FOOTFALL_PROC_WRAPPER="$(echo $vg) --log-file=$logs/processor.%p.txt" \
        FF_INTEGRATION_JOBS=1 sh tests/run.sh "$build" "integration/$suite" || failed="$failed $suite"
done

# A report with anything in it is an error (-q prints nothing else). The
# reports are what count: Criterion passes a test whose worker found a leak
# and exited 99 after the test passed, and a process killed before its exit
# cannot say so in its status.
reports=0
procs=0
bad=""
for f in "$logs"/*.txt; do
    [ -e "$f" ] || continue
    reports=$((reports + 1))
    case "$f" in */processor.*) procs=$((procs + 1)) ;; esac
    [ -s "$f" ] && bad="$bad $f"
done
echo "== valgrind: $reports processes watched ($procs processors) in $(( $(date +%s) - start ))s"
if [ "$procs" -eq 0 ]; then
    echo "== valgrind watched no processor: is FOOTFALL_PROC_WRAPPER still read?"
    exit 1
fi
if [ -n "$bad$failed" ]; then
    for f in $bad; do
        echo "== $f"
        head -n 80 "$f"
    done
    echo "FAILED:$failed${bad:+ (valgrind reports above)}"
    exit 1
fi
echo "valgrind: no errors, no leaks"
