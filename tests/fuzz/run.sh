#!/bin/sh
# Runs every libFuzzer target for a bounded time from its seed corpus.
# usage: tests/fuzz/run.sh FUZZ_BUILD_DIR SECONDS
set -u
dir=$1
seconds=$2
failed=""
for f in "$dir"/fuzz/fuzz_*; do
    name=$(basename "$f")
    corpus="$dir/corpus/$name"
    mkdir -p "$corpus"
    cp -n tests/fuzz/seeds/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
    echo "== $name for ${seconds}s"
    if ! "$f" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$dir/$name-" 2>"$dir/$name.log"; then
        tail -40 "$dir/$name.log"
        failed="$failed $name"
    else
        grep -E "stat::number_of_executed_units|cov:" "$dir/$name.log" | tail -2
    fi
done
if [ -n "$failed" ]; then
    echo "FUZZ FAILED:$failed (crashing inputs in $dir)"
    exit 1
fi
echo "fuzzing found nothing"
