#!/usr/bin/env bash
# Exercises pinion-sysdesc as a user would: help, usage errors, check on good
# and bad files, config output as JSON, summary, and a missing file.
# usage: tests/cli/sysdesc-cli.sh PATH-OF-pinion-sysdesc SOURCE-DIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 PATH-OF-pinion-sysdesc SOURCE-DIR" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/lib.sh"
src=$2
good=$src/systems/pipeline.json
full=$src/tests/data/sysdesc/good/full.json
bad=$src/tests/data/sysdesc/bad/channel-unknown-pd.json

# Help and usage errors.
run --help
expect_status 0 "--help"
expect_in "$out" "usage: pinion-sysdesc check FILE..." "--help"
expect_empty "$err" "--help"
run -h
expect_status 0 "-h"
run check --help
expect_status 0 "check --help"

run
expect_status 2 "no arguments"
expect_in "$err" "usage:" "no arguments"
expect_empty "$out" "no arguments"
run frobnicate
expect_status 2 "unknown command"
expect_in "$err" 'unknown command "frobnicate"' "unknown command"
run --verbose
expect_status 2 "unknown option"
expect_in "$err" 'unknown option "--verbose"' "unknown option"
run check
expect_status 2 "check without files"
expect_in "$err" "check needs at least one FILE" "check without files"
run config "$good"
expect_status 2 "config without PD"
expect_in "$err" "config needs a FILE and a PD name" "config without PD"
run summary
expect_status 2 "summary without file"

# check: good, bad, both, missing.
run check "$good"
expect_status 0 "check good"
expect_in "$out" "$good: ok (4 PDs, 3 regions, 3 channels)" "check good"
expect_empty "$err" "check good"

run check "$bad"
expect_status 1 "check bad"
expect_in "$err" "$bad: channels[1] \"rx\": end 0 names unknown PD \"muxx\"" "check bad"
expect_empty "$out" "check bad"
[[ $(wc -l <"$err") -eq 1 ]] || fail "check bad: expected exactly one line of message"

run check "$good" "$bad" "$full"
expect_status 1 "check good and bad"
expect_in "$out" "$good: ok" "check good and bad"
expect_in "$out" "$full: ok (7 PDs, 10 regions, 5 channels)" "check good and bad"
expect_in "$err" "$bad: channels[1]" "check good and bad"

run check "$scratch/no-such-file.json"
expect_status 1 "check missing file"
expect_in "$err" "$scratch/no-such-file.json: cannot open: No such file or directory" \
	"check missing file"
expect_empty "$out" "check missing file"

# Every good description checks, every bad one fails with one line naming the file.
for file in "$src"/tests/data/sysdesc/good/*.json "$src"/systems/*.json; do
	run check "$file"
	expect_status 0 "check $file"
done
for file in "$src"/tests/data/sysdesc/bad/*.json; do
	run check "$file"
	expect_status 1 "check $file"
	expect_in "$err" "$file:" "check $file"
	expect_empty "$out" "check $file"
done

# config: valid JSON with the expected values.
run config "$good" mux
expect_status 0 "config mux"
expect_empty "$err" "config mux"
python3 -m json.tool "$out" >/dev/null 2>"$scratch/json-error" ||
	fail "config mux: output is not valid JSON: $(cat "$scratch/json-error")"
python3 - "$out" <<'PY' || fail "config mux: unexpected values"
import json, sys
cfg = json.load(open(sys.argv[1]))
def need(cond, what):
    if not cond:
        sys.exit(f"config mux: {what}; got {json.dumps(cfg)}")
need(cfg["name"] == "mux", "name")
need(cfg["priority"] == 110, "priority")
need([r["name"] for r in cfg["regions"]] == ["in", "out0", "out1"], "region names")
need(all(r["size"] == 65536 and r["rights"] == "rw" and r["vaddr"] == 0 for r in cfg["regions"]),
     "region size, rights, vaddr")
need([(c["name"], c["id"], c["flags"]) for c in cfg["channels"]] ==
     [("in", 0, 0), ("out0", 1, 0), ("out1", 2, 0)], "channels")
need(cfg["params"] == {"capacity": "512"}, "params")
PY

run config "$full" eth
expect_status 0 "config eth"
python3 - "$out" <<'PY' || fail "config eth: unexpected values"
import json, sys
cfg = json.load(open(sys.argv[1]))
channels = [(c["name"], c["id"], c["flags"], c["irq"]) for c in cfg["channels"]]
expected = [("link", 0, 1, True), ("dev", 1, 1, True), ("eth_mux", 2, 0, False), ("tx", 5, 0, False)]
if channels != expected:
    sys.exit(f"channels {channels}, expected {expected}")
if cfg["regions"][0]["vaddr"] != 0x20000000 or cfg["regions"][2]["size"] != 2 << 20:
    sys.exit(f"regions {cfg['regions']}")
if cfg["params"] != {"mac": "52:54:00:12:34:56", "mtu": "1500", "promiscuous": "false"}:
    sys.exit(f"params {cfg['params']}")
PY

run config "$good" nobody
expect_status 1 "config unknown PD"
expect_in "$err" "$good: no PD named \"nobody\"" "config unknown PD"
expect_empty "$out" "config unknown PD"
run config "$bad" mux
expect_status 1 "config bad file"
expect_in "$err" "$bad: channels[1]" "config bad file"
expect_empty "$out" "config bad file"

# summary: the tables hold the PDs, regions and channel ids.
run summary "$full"
expect_status 0 "summary"
expect_in "$out" "system full" "summary"
expect_in "$out" "mux_rx" "summary"
expect_in "$out" "multiplexer" "summary"
expect_in "$out" "eth:rx_free rw @0x20000000" "summary"
expect_in "$out" "(not mapped)" "summary"
expect_in "$out" "a run ends when every core is idle" "summary"
expect_in "$out" "phys 0x9010000: tester:rtc rw, tester:rtc_cached r cached" "summary"
expect_in "$out" "acct:counters r @0x10000 uncached" "summary"
expect_in "$out" "client0:tx 62" "summary"
expect_in "$out" "kernel Image, 2 vCPUs, 256 MiB" "summary"
grep -qE '^  copy0 +copier +120 +- +net_copy$' "$out" || fail "summary: copy0's row"
grep -qE '^  eth +dev +79 +1 +edge$' "$out" || fail "summary: eth's dev IRQ row"
run summary "$bad"
expect_status 1 "summary bad"
expect_empty "$out" "summary bad"

finish sysdesc-cli
