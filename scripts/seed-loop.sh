#!/bin/sh
# Runs seeds FROM..TO (TO excluded) of a scenario, JOBS at a time, and
# prints each failing seed with its exit code, then a count and the wall
# time. Exit 1 if any seed failed. The Raft seed counts in the README were
# measured with it, before `simulate sweep` (which does the same in one
# process, with worker threads) existed:

#   cargo build --release && scripts/seed-loop.sh scenarios/raft-kv.ron 0 1000 2
set -eu
[ $# -ge 3 ] || { echo "usage: $0 FILE FROM TO [JOBS]" >&2; exit 2; }
file=$1 from=$2 to=$3 jobs=${4:-2}
bin=${SIMULATE:-target/release/simulate}
out=$(mktemp -d)
start=$(date +%s)
seq "$from" $((to - 1)) | xargs -P "$jobs" -I{} sh -c \
  "$bin run '$file' --seed {} --out '$out/{}' --json > /dev/null 2>&1; rc=\$?; [ \$rc -eq 0 ] || echo \"seed {} exit \$rc\"" \
  | sort -n -k2 | tee "$out/failed"
failed=$(wc -l < "$out/failed")
echo "$file: $failed of $((to - from)) seeds failed in $(( $(date +%s) - start ))s"
rm -rf "$out"
[ "$failed" -eq 0 ]
