#!/usr/bin/env bash
# Exercises pinion-image as a user would, with real aarch64 programs and a
# stand-in kernel built by tests/data/image/build-elves.sh: help and usage
# errors, a packed image checked with readelf, --dump and the manifest, the
# default placement, and every kind of bad input, each leaving existing
# outputs untouched and no temporary files behind.
# usage: tests/cli/image-cli.sh PATH-OF-pinion-image SOURCE-DIR
# Exit status 77 (skipped) when the aarch64 cross compiler is missing.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 PATH-OF-pinion-image SOURCE-DIR" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/lib.sh"
src=$2
data=$src/tests/data/image
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
	echo "FAIL: aarch64-linux-gnu-gcc is not installed (run tools/install-deps)" >&2
	exit 1
fi

elves=$scratch/elves
outdir=$scratch/out
mkdir -p "$outdir"
"$data/build-elves.sh" "$src" "$elves"

image=$outdir/pair.elf
manifest=$outdir/pair.json
pack=(--system "$data/pair.json" --placement "$data/pair-placement.json"
	--kernel "$elves/fake-kernel.elf" --programs "$elves")

# Help and usage errors (exit 2, nothing written).
run --help
expect_status 0 "--help"
expect_in "$out" "usage: pinion-image --system SYSTEM.json" "--help"
expect_in "$out" "pinion-image --dump IMAGE.elf" "--help"
expect_empty "$err" "--help"
run -h
expect_status 0 "-h"
run
expect_status 2 "no arguments"
expect_in "$err" "usage:" "no arguments"
run "${pack[@]}"
expect_status 2 "no -o"
expect_in "$err" "pinion-image: -o is required" "no -o"
expect_in "$err" "Try 'pinion-image --help'." "no -o"
run --system "$data/pair.json" --programs "$elves" -o "$image"
expect_status 2 "no --kernel"
expect_in "$err" "--kernel is required" "no --kernel"
run "${pack[@]}" -o "$image" --frobnicate
expect_status 2 "unknown option"
expect_in "$err" 'unknown option "--frobnicate"' "unknown option"
run "${pack[@]}" -o "$image" stray
expect_status 2 "stray argument"
expect_in "$err" 'unexpected argument "stray"' "stray argument"
run "${pack[@]}" -o "$image" --system "$data/pair.json"
expect_status 2 "option twice"
expect_in "$err" "--system given twice" "option twice"
run "${pack[@]}" -o
expect_status 2 "-o without a value"
expect_in "$err" "-o needs a value" "-o without a value"
run "${pack[@]}" -o "$image" --memory 1GB
expect_status 2 "bad --memory"
expect_in "$err" '--memory "1GB" is not a size' "bad --memory"
run "${pack[@]}" -o "$image" --memory 4097
expect_status 2 "unaligned --memory"
expect_in "$err" "is not a multiple of the page size" "unaligned --memory"
run "${pack[@]}" -o "$image" --manifest "$image"
expect_status 2 "manifest over image"
expect_in "$err" "the manifest and the image must be different files" "manifest over image"
run --dump "$image" -o "$image"
expect_status 2 "--dump with other options"
expect_in "$err" "--dump takes no other options" "--dump with other options"
[[ ! -e $image ]] || fail "usage errors: an image was written"

# A good image, with --option=value spellings too.
run "${pack[@]}" --memory=512MiB -o "$image" --manifest="$manifest"
expect_status 0 "pack"
expect_empty "$out" "pack"
expect_empty "$err" "pack"
readelf -hlW "$image" >"$scratch/readelf" 2>&1 || fail "readelf cannot read the image"
expect_in "$scratch/readelf" "EXEC (Executable file)" "readelf"
expect_in "$scratch/readelf" "AArch64" "readelf"
expect_in "$scratch/readelf" "Entry point address:               0x40200000" "readelf"
# Kernel 2, boot information 1, a: config + 3 segments + stack, b: config + 2 + stack, 2 regions.
loads=$(grep -c "^  LOAD" "$scratch/readelf" || true)
[[ $loads -eq 14 ]] || fail "readelf: $loads PT_LOAD segments, expected 14"
grep -qE "^  LOAD +0x[0-9a-f]+ 0x0000000040600000 0x0000000040600000 " "$scratch/readelf" ||
	fail "readelf: no segment with the boot information at 0x40600000"
grep -qE "^  LOAD +0x[0-9a-f]+ 0x0000000040a00000 0x0000000040a00000 0x000008 0x200000 RW " \
	"$scratch/readelf" || fail "readelf: the 2 MiB region is not at 0x40a00000"
if grep -q "0x0000000009010000" "$scratch/readelf"; then
	fail "readelf: the device page was given a segment"
fi

python3 - "$manifest" "$image" <<'PY' || fail "manifest: unexpected values"
import json, sys
m = json.load(open(sys.argv[1]))
def need(cond, what):
    if not cond:
        sys.exit(f"manifest: {what}; got {json.dumps(m)[:3000]}")
need(m["system"] == "pair" and m["image"] == sys.argv[2], "system, image")
need(m["cores"] == 2 and m["memory"] == 512 << 20 and m["end_when_idle"] is True, "cores, memory, end")
need(m["free_start"] == 0x40c00000 and m["free_end"] == 0x60000000, "free memory")
a, b = m["pds"]
need((a["name"], a["owner"], a["core"], a["polling"], a["program"]) == ("a", 1, 0, False, "counting"), "PD a")
need((b["name"], b["owner"], b["core"], b["polling"], b["program"]) == ("b", 2, 1, True, "plain"), "PD b")
need(a["entry"] == 0x200000 and a["stack_top"] == 0x1000000, "entry, stack top")
need(a["counters_pa"] == 0x40804010 and b["counters_pa"] == 0, "counter tables")
names = [(x["name"], x["ipa"], x["pa"], x["size"], x["rights"], x["attr"]) for x in a["mappings"]]
need(names == [("config", 0x100000, 0x40800000, 0x2000, "r", "normal"),
               ("program", 0x200000, 0x40802000, 0x1000, "rx", "normal"),
               ("program", 0x201000, 0x40803000, 0x1000, "r", "normal"),
               ("program", 0x202000, 0x40804000, 0x1000, "rw", "normal"),
               ("stack", 0xff0000, 0x40805000, 0x10000, "rw", "normal"),
               ("shared", 0x20000000, 0x40829000, 0x10000, "rw", "normal"),
               ("data", 0x20200000, 0x40a00000, 0x200000, "r", "normal")], f"a's mappings {names}")
rtc = [x for x in b["mappings"] if x["name"] == "rtc"][0]
need((rtc["ipa"], rtc["pa"], rtc["attr"]) == (0x20000000, 0x09010000, "device"), "b's rtc")
big = [x for x in b["mappings"] if x["name"] == "big"][0]
need((big["ipa"], big["pa"], big["attr"]) == (0x20200000, 0x40a00000, "device"), "b's big")
(ch,) = m["channels"]
need(ch["name"] == "ab" and ch["ends"] == [{"pd": "a", "id": 0}, {"pd": "b", "id": 1}], "channel ends")
need((ch["policy"], ch["count"], ch["window_us"]) == ("coalesce", 8, 100), "batching")
need(m["irqs"] == [{"pd": "b", "name": "dev", "irq": 40, "id": 0, "trigger": "edge"}], "irqs")
PY

# --dump reads the boot information back out of the image.
run --dump "$image"
expect_status 0 "--dump"
expect_empty "$err" "--dump"
expect_in "$out" "system \"pair\" on 2 cores; a run ends when every core is idle" "--dump"
expect_in "$out" "2 PDs, 14 mappings, 1 IRQ;" "--dump"
grep -qE '^ +1  b +2 +1 +50  yes +0x200000 ' "$out" || fail "--dump: b's row"
grep -qE '^  b +rtc +\[0x20000000, 0x20001000\) +\[0x9010000, 0x9011000\) +4 KiB +rw- +device$' \
	"$out" || fail "--dump: b's rtc mapping"
expect_in "$out" "a:0 ab -> b:1  coalesce (count 8, window 100 us)" "--dump"
grep -qE '^ +40  b +0  edge$' "$out" || fail "--dump: the IRQ"

# Without a placement: the description's cores (b says 1), immediate, nobody polling.
run --system "$data/pair.json" --kernel "$elves/fake-kernel.elf" --programs "$elves" \
	-o "$outdir/default.elf"
expect_status 0 "default placement"
run --dump "$outdir/default.elf"
expect_in "$out" "on 2 cores" "default placement"
expect_in "$out" "a:0 ab -> b:1  immediate" "default placement"
grep -qE '^ +1  b +2 +1 +50  no ' "$out" || fail "default placement: b's row"

# Bad inputs: exit 1, one line naming the file and the problem, outputs untouched.
cp "$image" "$scratch/image.before"
cp "$manifest" "$scratch/manifest.before"
entries=$(ls -A "$outdir" | wc -l)
cp /bin/true "$scratch/x86.elf"
head -c 300 "$elves/counting.elf" >"$scratch/truncated.elf"
mkdir -p "$scratch/wrong" "$scratch/short" "$scratch/low"
cp "$scratch/x86.elf" "$scratch/wrong/counting.elf"
cp "$elves/plain.elf" "$scratch/wrong/plain.elf"
cp "$scratch/truncated.elf" "$scratch/short/counting.elf"
cp "$elves/plain.elf" "$scratch/short/plain.elf"
cp "$elves/low.elf" "$scratch/low/counting.elf"
cp "$elves/plain.elf" "$scratch/low/plain.elf"
echo '{"cores": 2, "pds": {"c": 0}}' >"$scratch/placement-unknown.json"

expect_refused() {
	local what=$1 text=$2
	shift 2
	run "$@" -o "$image" --manifest "$manifest"
	expect_status 1 "$what"
	expect_in "$err" "$text" "$what"
	expect_empty "$out" "$what"
	[[ $(wc -l <"$err") -eq 1 ]] || fail "$what: expected one line of message"
	cmp -s "$image" "$scratch/image.before" || fail "$what: the existing image was changed"
	cmp -s "$manifest" "$scratch/manifest.before" || fail "$what: the existing manifest was changed"
	[[ $(ls -A "$outdir" | wc -l) -eq $entries ]] || fail "$what: files left behind: $(ls -A "$outdir")"
}
kernel=(--kernel "$elves/fake-kernel.elf")
expect_refused "a VM" "$data/vm.json: PD \"linux\" is a VM: VMs are not supported by the packer yet" \
	--system "$data/vm.json" "${kernel[@]}" --programs "$elves"
expect_refused "a missing program" "$elves/nowhere.elf: cannot open: No such file or directory" \
	--system "$data/missing-program.json" "${kernel[@]}" --programs "$elves"
expect_refused "an x86 program" "$scratch/wrong/counting.elf: built for machine 62 (x86-64), not aarch64" \
	--system "$data/pair.json" "${kernel[@]}" --programs "$scratch/wrong"
expect_refused "a truncated program" "$scratch/short/counting.elf: truncated: program header 0's" \
	--system "$data/pair.json" "${kernel[@]}" --programs "$scratch/short"
expect_refused "a program outside its window" \
	"$scratch/low/counting.elf: segment 0 [0x100000, 0x100050) is outside the program window" \
	--system "$data/pair.json" "${kernel[@]}" --programs "$scratch/low"
expect_refused "a misplaced kernel" \
	"$elves/misplaced-kernel.elf: segment 0 [0x40000000, 0x40000008) (physical) is outside the kernel's area" \
	--system "$data/pair.json" --kernel "$elves/misplaced-kernel.elf" --programs "$elves"
expect_refused "a kernel that is no ELF file" "$data/pair.json: not an ELF file" \
	--system "$data/pair.json" --kernel "$data/pair.json" --programs "$elves"
expect_refused "a placement naming an unknown PD" \
	"$scratch/placement-unknown.json: pds \"c\": no such PD in system \"pair\"" \
	--system "$data/pair.json" --placement "$scratch/placement-unknown.json" "${kernel[@]}" \
	--programs "$elves"
expect_refused "too little memory" "$data/pair.json: does not fit in 8 MiB of RAM" \
	--system "$data/pair.json" "${kernel[@]}" --programs "$elves" --memory 8MiB
expect_refused "a missing system" "$scratch/none.json: cannot open" \
	--system "$scratch/none.json" "${kernel[@]}" --programs "$elves"

# --dump of what is no image.
run --dump "$elves/counting.elf"
expect_status 1 "--dump of a program"
expect_in "$err" "$elves/counting.elf: no pinion boot information" "--dump of a program"
run --dump "$scratch/none.elf"
expect_status 1 "--dump of a missing file"
expect_in "$err" "$scratch/none.elf: cannot open" "--dump of a missing file"

finish image-cli
