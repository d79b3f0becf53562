#!/usr/bin/env bash
# Runs the system-description fuzzer for a bounded time (30 s unless
# PINION_FUZZ_SECONDS says otherwise), seeded with the corpus, the good and
# bad test descriptions and the systems. The seeds are copied to a temporary
# directory so the fuzzer's additions never land in the repository. Fails if
# the fuzzer reports a crash, a sanitizer error, a leak or a timeout; what it
# found is kept in ARTIFACT-DIR.
# usage: tests/fuzz/run-smoke.sh FUZZER SOURCE-DIR [ARTIFACT-DIR]
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
	echo "usage: $0 FUZZER SOURCE-DIR [ARTIFACT-DIR]" >&2
	exit 2
fi
fuzzer=$1
src=$2
artifacts=${3:-$PWD/fuzz-artifacts}
seconds=${PINION_FUZZ_SECONDS:-30}

if [[ ! -x $fuzzer ]]; then
	echo "$0: fuzzer $fuzzer is not an executable" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"

# Prefixed by folder, since good/ and bad/ may hold files of the same name.
seeds=0
for dir in tests/fuzz/corpus tests/data/sysdesc/good tests/data/sysdesc/bad systems; do
	for file in "$src/$dir"/*.json; do
		[[ -f $file ]] || continue
		cp "$file" "$work/corpus/${dir//\//_}_$(basename "$file")"
		seeds=$((seeds + 1))
	done
done
if [[ $seeds -eq 0 ]]; then
	echo "$0: no seeds found under $src" >&2
	exit 1
fi

status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-dict="$src/tests/fuzz/sysdesc.dict" -artifact_prefix="$artifacts/" \
	-print_final_stats=1 "$work/corpus" >"$work/log" 2>&1 || status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [[ $status -ne 0 ]]; then
	echo "FAIL: fuzz_sysdesc exited with status $status; the end of its log:" >&2
	tail -n 60 "$work/log" >&2
	echo "inputs that failed are in $artifacts:" >&2
	ls -l "$artifacts" >&2
	exit 1
fi
if [[ -z $runs || $runs -eq 0 ]]; then
	echo "FAIL: fuzz_sysdesc ran no inputs; its log:" >&2
	cat "$work/log" >&2
	exit 1
fi
echo "fuzz_sysdesc: $runs inputs in ${seconds}s from $seeds seeds, no failures"
