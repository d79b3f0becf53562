#!/usr/bin/env bash
# Exercises pinion-image as a user would, with real aarch64 programs and a
# stand-in kernel built by tests/data/image/build-elves.sh: help and usage
# errors, a packed image checked with readelf, --dump and the manifest, the
# default placement, a system with a driver VM (a stand-in guest kernel and
# initrd made here; its device tree decompiled with dtc), and every kind of
# bad input, each leaving existing outputs untouched and no temporary files
# behind.
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
expect_in "$out" "--guests DIR" "--help"
expect_in "$out" "--dtb-out DIR" "--help"
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
run --dump "$image" --guests "$scratch"
expect_status 2 "--dump with --guests"
run "${pack[@]}" -o "$image" --dtb-out
expect_status 2 "--dtb-out without a value"
expect_in "$err" "--dtb-out needs a value" "--dtb-out without a value"
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

# A driver VM (tests/data/image/vm.json): a stand-in arm64 Image (the 64-byte
# header Linux's booting.rst defines: text_offset 0, image_size 128 KiB) and
# initrd in a guests directory, its 2 vCPUs on cores 1 and 2.
guests=$scratch/guests
mkdir -p "$guests" "$scratch/bad-guests" "$scratch/dtbs"
python3 - "$guests" "$scratch/bad-guests" <<'PY'
import struct, sys
image = bytearray(0x5000)
struct.pack_into("<QQQ", image, 8, 0, 0x20000, 0xa)  # text_offset, image_size, flags
image[56:60] = b"ARM\x64"
open(sys.argv[1] + "/Image", "wb").write(image)
open(sys.argv[1] + "/initrd.cpio", "wb").write(b"\x07" * 5000)
image[56:60] = b"\0\0\0\0"
open(sys.argv[2] + "/Image", "wb").write(image)
PY
echo '{"system": "with-vm", "cores": 3, "pds": {"a": 0, "linux": 1}, "vcpus": {"linux": [1, 2]}}' \
	>"$scratch/vm-placement.json"
echo '{"system": "with-vm", "cores": 2, "pds": {"a": 0, "linux": 1}, "vcpus": {"linux": [1, 2]}}' \
	>"$scratch/vm-placement-2core.json"
vm_image=$scratch/vm.elf
vm_manifest=$scratch/vm.json
run --system "$data/vm.json" --placement "$scratch/vm-placement.json" --kernel "$elves/fake-kernel.elf" \
	--programs "$elves" --guests "$guests" -o "$vm_image" --manifest "$vm_manifest" \
	--dtb-out "$scratch/dtbs"
expect_status 0 "pack a VM"
expect_empty "$err" "pack a VM"
[[ $(ls -A "$scratch/dtbs") == "linux.dtb" ]] || fail "--dtb-out: expected linux.dtb alone: $(ls -A "$scratch/dtbs")"
readelf -lW "$vm_image" >"$scratch/readelf-vm" 2>&1 || fail "readelf cannot read the VM image"
# a's RAM ends at 0x40815000: the VM's 128 MiB from 0x40a00000; its device tree first,
# the kernel at +2 MiB (128 KiB with its bss), the initrd on the next 2 MiB boundary.
grep -qE "^  LOAD +0x[0-9a-f]+ 0x0000000040a00000 0x0000000040a00000 0x000[0-9a-f]{3} 0x001000 R " \
	"$scratch/readelf-vm" || fail "readelf: no device tree at 0x40a00000"
grep -qE "^  LOAD +0x[0-9a-f]+ 0x0000000040c00000 0x0000000040c00000 0x005000 0x020000 RWE " \
	"$scratch/readelf-vm" || fail "readelf: no guest kernel at 0x40c00000"
grep -qE "^  LOAD +0x[0-9a-f]+ 0x0000000040e00000 0x0000000040e00000 0x001388 0x002000 R " \
	"$scratch/readelf-vm" || fail "readelf: no initrd at 0x40e00000"
# The device tree in the image is the one --dtb-out wrote, and dtc reads it.
cmp -s "$scratch/dtbs/linux.dtb" <(dd if="$vm_image" bs=1 skip=$((0x$(awk '/ 0x0000000040a00000 /{print substr($2, 3)}' "$scratch/readelf-vm"))) \
	count="$(stat -c %s "$scratch/dtbs/linux.dtb")" 2>/dev/null) || fail "the image's device tree differs from linux.dtb"
dts=$scratch/linux.dts
if dtc -q -I dtb -O dts -o "$dts" "$scratch/dtbs/linux.dtb" 2>"$scratch/dtc.err"; then
	expect_in "$dts" 'bootargs = "console=ttyAMA0 earlycon=pl011,0x09000000 uio_pdrv_genirq.of_id=generic-uio quiet loglevel=4";' "dtc"
	expect_in "$dts" "linux,initrd-start = <0x00 0x40e00000>;" "dtc"
	expect_in "$dts" "linux,initrd-end = <0x00 0x40e01388>;" "dtc"
	expect_in "$dts" "memory@40a00000 {" "dtc"
	expect_in "$dts" "reg = <0x00 0x40a00000 0x00 0x8000000>;" "dtc"
	expect_in "$dts" "cpu@1 {" "dtc"
	expect_in "$dts" "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000>;" "dtc"
	expect_in "$dts" "virtio_mmio@a003e00 {" "dtc"
	expect_in "$dts" "interrupts = <0x00 0x2f 0x01>;" "dtc"
	expect_in "$dts" "rx@b000000 {" "dtc"
	expect_in "$dts" 'compatible = "generic-uio";' "dtc"
	expect_in "$dts" "reg = <0x00 0xb000000 0x00 0x1000 0x00 0x48a00000 0x00 0x10000 0x00 0x48c00000 0x00 0x200000>;" "dtc"
	expect_in "$dts" 'reg-names = "doorbell\0rx\0rx_data";' "dtc"
	expect_in "$dts" "interrupts = <0x00 0x40 0x01>;" "dtc"
	[[ -s $scratch/dtc.err ]] && fail "dtc warns: $(cat "$scratch/dtc.err")"
else
	fail "dtc cannot decompile linux.dtb: $(cat "$scratch/dtc.err")"
fi
run --dump "$vm_image"
expect_status 0 "--dump of a VM image"
expect_in "$out" "2 PDs, 11 mappings, 0 IRQs, 1 VM, 2 vCPUs;" "--dump of a VM image"
expect_in "$out" "linux: 2 vCPUs, RAM [0x40a00000, 0x48a00000) (128 MiB), entry 0x40c00000, device tree 0x40a00000; passed-through INTIDs: 79" "--dump of a VM image"
expect_in "$out" "uio rx: INTID 96; map0 doorbell [0xb000000, 0xb001000) map1 rx [0x48a00000, 0x48a10000) map2 rx_data [0x48c00000, 0x48e00000)" "--dump of a VM image"
expect_in "$out" "linux:0 rx -> a:0  immediate" "--dump of a VM image"
grep -qE '^ +1  linux +1 +2 +129$' "$out" || fail "--dump: vCPU 1's row"
python3 - "$vm_manifest" "$guests" <<'PY' || fail "VM manifest: unexpected values"
import json, sys
m = json.load(open(sys.argv[1]))
def need(cond, what):
    if not cond:
        sys.exit(f"VM manifest: {what}; got {json.dumps(m.get('vms'))[:3000]}")
(vm,) = m["vms"]
need(vm["name"] == "linux" and vm["kernel"] == sys.argv[2] + "/Image", "name, kernel")
need((vm["ram_base"], vm["ram_size"], vm["entry"], vm["dtb"]) == (0x40a00000, 128 << 20, 0x40c00000, 0x40a00000), "RAM, entry, device tree")
need((vm["initrd_start"], vm["initrd_end"]) == (0x40e00000, 0x40e00000 + 5000), "initrd")
need([(v["index"], v["core"], v["owner"]) for v in vm["vcpus"]] == [(0, 1, 128), (1, 2, 129)], "vCPUs")
need(vm["devices"] == [{"name": "net0", "mmio": 0x0a003e00, "intid": 79}], "devices")
(ch,) = vm["channels"]
need((ch["name"], ch["id"], ch["peer"], ch["doorbell"], ch["intid"]) == ("rx", 0, "a", 0x0b000000, 96), "channel")
need([r["name"] for r in ch["regions"]] == ["rx", "rx_data"], "channel regions")
need([p["program"] for p in m["pds"]] == ["counting", None], "programs")
PY

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
expect_refused "a VM whose kernel is not where the description is" \
	"$data/vm.json: VM \"linux\": kernel \"Image\": cannot open $data/Image: No such file or directory (a relative path is looked up in the description's directory, as no --guests was given)" \
	--system "$data/vm.json" "${kernel[@]}" --programs "$elves"
expect_refused "a VM whose kernel is no arm64 Image" \
	"$scratch/bad-guests/Image: not an arm64 Linux Image: no magic \"ARM\\x64\" at byte 56" \
	--system "$data/vm.json" "${kernel[@]}" --programs "$elves" --guests "$scratch/bad-guests"
expect_refused "a VM whose vCPU is on a core the placement lacks" \
	"$scratch/vm-placement-2core.json: vcpus \"linux\"[1]: core 2 out of range 0..1" \
	--system "$data/vm.json" --placement "$scratch/vm-placement-2core.json" "${kernel[@]}" \
	--programs "$elves" --guests "$guests"
expect_refused "--dtb-out that is no directory" "$data/vm.json: cannot use as --dtb-out: not a directory" \
	--system "$data/vm.json" "${kernel[@]}" --programs "$elves" --guests "$guests" \
	--dtb-out "$data/vm.json"
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
