#!/usr/bin/env bash
# The hosted pipeline (producer -> multiplexer -> two consumers) runs to
# quiescence with every item delivered once, in order, intact; items for a
# nonexistent consumer are dropped and counted by the multiplexer.
# usage: hosted-pipeline.sh PINION_HOSTED SOURCE_DIR COMPONENT_DIR
set -euo pipefail
hosted=$1 src=$2 components=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Reads one value out of the stats JSON: counter PD NAME, or stat PD NAME.
value() {
	python3 - "$work/stats.json" "$1" "$2" "$3" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
kind, pd, name = sys.argv[2:5]
entry = next(p for p in doc["pds"] if p["pd"] == pd)
print(entry["counters"][name] if kind == "counter" else entry[name])
PY
}

run() {
	local system=$1
	rm -f "$work/stats.json"
	if ! "$hosted" --components "$components" --stats --stats-json "$work/stats.json" \
		"$system" >"$work/out" 2>"$work/err"; then
		cat "$work/out" "$work/err" >&2
		fail "pinion-hosted $system exited non-zero"
	fi
	for c in consumer0 consumer1; do
		grep -qx "$c: complete: every item arrived once, in order, intact" "$work/out" ||
			{ cat "$work/out" >&2; fail "$c did not report a complete, in-order run"; }
		[ "$(value counter $c out_of_order)" = 0 ] || fail "$c saw items out of order"
		[ "$(value counter $c corrupt)" = 0 ] || fail "$c saw corrupt items"
	done
	[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["quiescent"])' "$work/stats.json")" = True ] ||
		fail "stats say the run was not quiescent"
}

echo "== default pipeline: $src/systems/pipeline.json"
run "$src/systems/pipeline.json"
items=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(c for c in d["components"] if c["name"]=="producer")["params"]["items"])' "$src/systems/pipeline.json")
[ "$(value counter mux forwarded)" = "$items" ] || fail "mux forwarded $(value counter mux forwarded) of $items"
received=$(( $(value counter consumer0 received) + $(value counter consumer1 received) ))
[ "$received" = "$items" ] || fail "consumers received $received of $items"
echo "ok: $items items through the pipeline"

echo "== bad items dropped: pipeline-bad-items.json"
run "$src/tests/data/hosted/pipeline-bad-items.json"
[ "$(value counter mux dropped_bad_consumer)" = 200 ] || fail "mux dropped $(value counter mux dropped_bad_consumer), expected 200"
[ "$(value counter producer bad_sent)" = 200 ] || fail "producer sent $(value counter producer bad_sent) bad items, expected 200"
[ "$(value counter consumer0 received)" = 9900 ] || fail "consumer0 received $(value counter consumer0 received), expected 9900"
echo "ok: 200 bad items dropped and counted, 19800 delivered"

echo "== usage errors"
set +e
"$hosted" >/dev/null 2>"$work/err"; rc=$?
set -e
[ $rc = 2 ] || fail "no arguments should exit 2, got $rc"
"$hosted" --help | grep -q "usage: pinion-hosted" || fail "--help prints no usage"
set +e
"$hosted" --components "$components" "$work/missing.json" >/dev/null 2>"$work/err"; rc=$?
set -e
[ $rc = 1 ] || fail "a missing system file should exit 1, got $rc"
grep -q "missing.json" "$work/err" || fail "the error does not name the missing file: $(cat "$work/err")"
echo "ok"
