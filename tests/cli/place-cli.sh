#!/usr/bin/env bash
# Exercises `place` as a user would: help and usage errors; the headline
# command (latency on the i.MX8MM for sDDF's echo server) with its reasons;
# the three policies giving different layouts; the placement it writes
# loading back; sDDF's core map; --evaluate, --enumerate, --json; the
# machines (--board, --dtb, --host, --cores); measured work; and one clear
# error, with exit status 1, for each kind of bad input.
# usage: tests/cli/place-cli.sh PATH-OF-place SOURCE-DIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 PATH-OF-place SOURCE-DIR" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/lib.sh"
src=$2
echo_system=$src/systems/sddf-echo-imx8mm.json
imx=(--board imx8mm-evk --system "$echo_system")

# A bad input: exit 1, one line on stderr holding the message, nothing on stdout.
expect_error() {
	local what=$1 message=$2
	shift 2
	run "$@"
	expect_status 1 "$what"
	expect_in "$err" "$message" "$what"
	expect_lines "$err" 1 "$what"
	[[ ! -s $out ]] || fail "$what: stdout should be empty"
}

# The layout (PD -> core) of a --json file's best layout, one line, sorted.
layout_of() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); l=d["layouts"][0]["cores"]; print(" ".join(f"{k}={v}" for k,v in sorted(l.items())))' "$1"
}

# Help and usage.
run --help
expect_status 0 "--help"
expect_in "$out" "usage: place --system FILE" "--help"
run
expect_status 2 "no arguments"
expect_in "$err" "--system FILE is required" "no arguments"
run --system "$echo_system"
expect_status 2 "no machine"
expect_in "$err" "give exactly one of --board NAME, --dtb FILE, --host" "no machine"
run "${imx[@]}" --policy fastest
expect_status 2 "unknown policy"
expect_in "$err" "--policy fastest: one of latency, throughput, efficiency" "unknown policy"
run "${imx[@]}" --frobnicate
expect_status 2 "unknown option"
run "${imx[@]}" --measured x.json
expect_status 2 "--measured without --ios"
run "${imx[@]}" --dtb x.dtb
expect_status 2 "two machines"

# The headline: latency on the i.MX8MM, exact, with reasons and runners-up.
run --policy latency "${imx[@]}"
expect_status 0 "latency"
expect_in "$out" "place: system sddf-echo-imx8mm (12 PDs) on imx8mm-evk, policy latency" "latency"
expect_in "$out" "cluster 0: cores 0-3, 4 x arm,cortex-a53 @ 1800 MHz, L2 512 KiB" "latency"
expect_in "$out" "solver: exact" "latency"
expect_in "$out" "the best layout is proved best" "latency"
expect_in "$out" "why this layout" "latency"
expect_in "$out" "runners-up (what differs from the best)" "latency"
expect_in "$out" "predicted at 500 Mb/s" "latency"

# The policies disagree where they should: at 900 Mb/s one core is the fastest
# path, four the most throughput, two the fewest that stay under 80%.
for policy in latency throughput efficiency; do
	run "${imx[@]}" --load 900Mb/s --policy $policy --quiet --json "$scratch/$policy.json"
	expect_status 0 "$policy at 900 Mb/s"
done
lat=$(layout_of "$scratch/latency.json")
tput=$(layout_of "$scratch/throughput.json")
eff=$(layout_of "$scratch/efficiency.json")
[[ $lat != "$tput" && $lat != "$eff" && $tput != "$eff" ]] ||
	fail "policies at 900 Mb/s: layouts should differ: latency [$lat] throughput [$tput] efficiency [$eff]"
python3 - "$scratch" <<'PY' || fail "policy figures at 900 Mb/s"
import json, sys
d = {p: json.load(open(f"{sys.argv[1]}/{p}.json"))["layouts"][0]["predicted"]
     for p in ("latency", "throughput", "efficiency")}
assert d["latency"]["latency_us"] <= min(d[p]["latency_us"] for p in d), d
assert d["throughput"]["throughput_per_s"] >= max(d[p]["throughput_per_s"] for p in d), d
assert d["efficiency"]["max_util"] <= 0.8, d
assert d["efficiency"]["cores_used"] <= d["throughput"]["cores_used"], d
PY

# The placement written loads back (through --evaluate) and predicts the same.
run "${imx[@]}" --policy throughput --quiet --out "$scratch/p.json" --json "$scratch/solved.json"
expect_status 0 "--out"
expect_in "$scratch/p.json" '"system": "sddf-echo-imx8mm"' "--out"
run "${imx[@]}" --policy throughput --evaluate "$scratch/p.json" --json "$scratch/evaluated.json"
expect_status 0 "--evaluate"
expect_in "$out" "evaluating: $scratch/p.json" "--evaluate"
python3 - "$scratch" <<'PY' || fail "--evaluate predicts what the solve did"
import json, sys
a = json.load(open(f"{sys.argv[1]}/solved.json"))["layouts"][0]
b = json.load(open(f"{sys.argv[1]}/evaluated.json"))["layouts"][0]
assert a["cores"] == b["cores"], (a["cores"], b["cores"])
pa, pb = a["predicted"], b["predicted"]
for key in ("throughput_per_s", "total_cpu", "max_util"):
    assert abs(pa[key] - pb[key]) <= 1e-6 * abs(pa[key]), (key, pa[key], pb[key])
PY

# sDDF's core map: every PD by name.
run "${imx[@]}" --policy throughput --emit sddf-core-map --out - --quiet
expect_status 0 "sddf-core-map"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert len(m)==12 and set(m["ethernet_driver"] for _ in [0]) <= {0,1,2,3}, m' "$out" ||
	fail "sddf-core-map is not a 12-PD map"
run "${imx[@]}" --emit nonsense --out x
expect_status 2 "--emit nonsense"

# Enumeration: every layout up to symmetry of the 5 busy PDs on 4 cores (51), best first.
run "${imx[@]}" --enumerate --limit 3
expect_status 0 "--enumerate"
expect_in "$out" "51 distinct layouts up to core symmetry" "--enumerate"
expect_in "$out" "      3 " "--enumerate"

# Determinism: the local search alone, twice with one seed, the same layouts.
run "${imx[@]}" --solver local --seed 3 --quiet --json "$scratch/a.json"
run "${imx[@]}" --solver local --seed 3 --quiet --json "$scratch/b.json"
python3 - "$scratch" <<'PY' || fail "local search with one seed twice"
import json, sys
a, b = (json.load(open(f"{sys.argv[1]}/{n}.json")) for n in "ab")
assert a["solver"]["method"] == "heuristic"
assert [l["cores"] for l in a["layouts"]] == [l["cores"] for l in b["layouts"]]
PY

# Machines: a compiled tree, the first N cores, the host, a big.LITTLE board.
dtc -q -I dts -O dtb -o "$scratch/rk.dtb" "$src/boards/rk3399/rk3399.dts"
run --dtb "$scratch/rk.dtb" --profile "$src/boards/rk3399/profile.json" --system "$echo_system" --policy throughput
expect_status 0 "--dtb"
expect_in "$out" "cluster 1: cores 4-5, 2 x arm,cortex-a72 @ 1800 MHz, capacity 1024" "--dtb"
run --board qemu-virt-aarch64 --cores 2 --system "$src/systems/pipeline.json"
expect_status 0 "--cores"
expect_in "$out" "machine: 2 cores" "--cores"
run --host --system "$src/systems/pipeline.json" --measured "$src/tests/data/place/pipeline-summary.json" --ios 200000
expect_status 0 "--host with --measured"
expect_in "$out" "from hwloc" "--host"
expect_in "$out" "work of 4 PDs from a measured run" "--measured"

# VMs: each vCPU placed; the placement says so with "vcpus".
run --board imx8mm-evk --profile "$src/tests/data/place/vm-profile.json" --system "$src/tests/data/place/vm-system.json" --policy throughput --out "$scratch/vm.json" --quiet
expect_status 0 "VM"
expect_in "$scratch/vm.json" '"vcpus": {' "VM"

# Bad input: one message each, exit 1.
expect_error "unknown board" 'place: --board nosuch: no such board' --board nosuch --system "$echo_system"
expect_error "missing system file" "nonexistent.json: cannot open" --board imx8mm-evk --system "$scratch/nonexistent.json"
expect_error "PD missing from the profile" 'has no work for PD "producer" of system "pipeline"' --board imx8mm-evk --system "$src/systems/pipeline.json"
expect_error "cycle in the pins" "but together chain net_virt_rx - client0_net_copier - client0" \
	"${imx[@]}" --together client0,client0_net_copier --together client0_net_copier,net_virt_rx --pin client0=1 --pin net_virt_rx=0
expect_error "more exclusive PDs than cores" "more exclusive PDs than cores: 5" \
	"${imx[@]}" --exclusive client0 --exclusive net_virt_rx --exclusive net_virt_tx --exclusive ethernet_driver --exclusive client0_net_copier
expect_error "apart and together" "keeps client0 and net_virt_rx apart, but together chain" \
	"${imx[@]}" --apart client0,net_virt_rx --together client0,net_virt_rx
expect_error "exclusive pinned with another" "but net_virt_rx is pinned there too" \
	"${imx[@]}" --exclusive client0 --pin client0=1 --pin net_virt_rx=1
expect_error "unknown PD in a constraint" '--pin foo=1: no PD or vCPU "foo" to place' "${imx[@]}" --pin foo=1
expect_error "core not on the board" "core 7 is not on imx8mm-evk (cores 0-3)" "${imx[@]}" --pin client0=7
expect_error "pins beyond max-cores" "the pins use 2 different cores, but --max-cores 1 allows 1" \
	"${imx[@]}" --max-cores 1 --pin client0=1 --pin ethernet_driver=0
expect_error "a load no layout carries" "no layout carries 3000 Mb/s" "${imx[@]}" --load 3Gb/s --quiet
expect_error "over the cap" "no layout keeps every core at or under 80% at 950 Mb/s" \
	"${imx[@]}" --policy efficiency --load 950Mb/s --max-cores 1 --quiet
expect_error "bad profile" "events.vm_exit: missing required field \"source\"" \
	--board imx8mm-evk --profile "$src/tests/data/place/no-source-profile.json" --system "$echo_system"
expect_error "bad load" "load \"fast\" is not a positive number" "${imx[@]}" --load fast
expect_error "bad constraints file" 'unknown field "profile"' "${imx[@]}" --constraints "$src/tests/data/place/vm-profile.json"
expect_error "a placement of another system to evaluate" 'does not match the description'"'"'s name "sddf-echo-imx8mm"' \
	"${imx[@]}" --evaluate "$scratch/vm.json"
dtc -q -I dts -O dtb -o "$scratch/virt.dtb" "$src/boards/qemu-virt-aarch64/qemu-virt-aarch64.dts"
expect_error "a core without clock or profile type" 'has no clock-frequency, and profile' \
	--dtb "$scratch/virt.dtb" --profile "$src/tests/data/place/vm-profile.json" --system "$src/tests/data/place/vm-system.json"

# An infeasible layout is not written.
rm -f "$scratch/none.json"
run "${imx[@]}" --load 3Gb/s --quiet --out "$scratch/none.json"
[[ ! -e $scratch/none.json ]] || fail "an infeasible layout was written"

finish place-cli
