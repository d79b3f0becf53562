#!/usr/bin/env bash
# Boots the driver VMs' guest kernel and initramfs (build/<dir>/guests/) on
# plain QEMU virt, without pinion's kernel, and checks what the guest's init
# does in each mode. This shows the guest side works on its own: when a
# guest misbehaves on pinion's kernel, the kernel is to blame.
#
# usage: tests/linux/boot-plain.sh GUESTS_DIR CASE WORK_DIR
# CASE:
#   poweroff       2 CPUs: "init started on 2 cpus", powered off (QEMU exits 0)
#   poweroff-4cpus the same with 4 CPUs
#   panic          init exits, Linux panics, panic=-1 resets, -no-reboot ends QEMU
#   spin           the guest spins in its shell: QEMU still runs after the line
#   bad-mode       an unknown pinion.mode= is reported, then the guest powers off
#   ping-no-device pinion.mode=ping without a UIO device: uio-ping's error, power off
#   ping-named     the same with pinion.uio=NAME: uio-ping looks for NAME
#   init-scripts   /etc/pinion-init.d/* run in name order, a failure is reported
#   uio-timeout    a generic-uio node added to QEMU's device tree: uio-ping finds
#                  it, maps both regions, unmasks the interrupt and times out (no
#                  peer rings back on plain QEMU)
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: $0 GUESTS_DIR CASE WORK_DIR" >&2
	exit 2
fi
guests=$1
case=$2
work=$3/$case
here=$(cd "$(dirname "$0")" && pwd)
build_initramfs=$here/../../driver-vms/initramfs/build-initramfs
QEMU=${QEMU:-qemu-system-aarch64}
# Seconds a boot may take: about 1 s on an idle 2-core host under TCG; the
# margin covers a loaded machine running tests in parallel.
LIMIT=${PINION_BOOT_LIMIT:-90}

kernel=$guests/linux.Image
initrd=$guests/test.cpio.gz
for f in "$kernel" "$initrd" "$guests/uio-ping"; do
	if [[ ! -f $f ]]; then
		echo "FAIL: $f is missing: build the guests first (cmake --build build/release)" >&2
		exit 1
	fi
done
if ! command -v "$QEMU" >/dev/null; then
	echo "FAIL: $QEMU not found (run tools/install-deps)" >&2
	exit 1
fi
rm -rf "$work"
mkdir -p "$work"
console=$work/console.txt
failures=0

fail() {
	echo "FAIL ($case): $*" >&2
	failures=$((failures + 1))
}

# qemu_args SMP: the machine every case boots (plus -kernel, -initrd, -append).
qemu_args() {
	echo -M virt,gic-version=3 -cpu cortex-a57 -smp "$1" -m 128M -nographic -no-reboot -nic none
}

# boot SMP INITRD APPEND [QEMU ARGS...]: one boot to its end within LIMIT
# seconds; the console is in $console, QEMU's status in $status.
boot() {
	local smp=$1 image=$2 append=$3
	shift 3
	status=0
	# shellcheck disable=SC2046
	timeout "$LIMIT" "$QEMU" $(qemu_args "$smp") -kernel "$kernel" -initrd "$image" \
		-append "console=ttyAMA0 $append" "$@" </dev/null >"$console" 2>&1 || status=$?
	if [[ $status -eq 124 ]]; then
		fail "the guest did not finish within $LIMIT s"
	fi
}

expect_status() {
	[[ $status -eq $1 ]] || fail "QEMU exited with status $status, expected $1"
}

expect_line() {
	grep -qxF -- "$1" <(tr -d '\r' <"$console") || fail "no line \"$1\" on the console"
}

expect_no_line() {
	! grep -qF -- "$1" "$console" || fail "\"$1\" on the console, unexpected"
}

# expect_order LINE... : the lines appear in this order.
expect_order() {
	local previous=0 line number
	for line in "$@"; do
		number=$(tr -d '\r' <"$console" | grep -nxF -- "$line" | head -n 1 | cut -d: -f1) || true
		if [[ -z $number ]]; then
			fail "no line \"$line\" on the console"
			return
		fi
		[[ $number -gt $previous ]] || fail "\"$line\" (line $number) is not after line $previous"
		previous=$number
	done
}

case $case in
poweroff)
	boot 2 "$initrd" "pinion.mode=poweroff"
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" "pinion-guest: powering off" \
		"reboot: Power down"
	;;
poweroff-4cpus)
	boot 4 "$initrd" ""
	expect_status 0
	expect_order "pinion-guest: init started on 4 cpus" "pinion-guest: powering off" \
		"reboot: Power down"
	;;
panic)
	boot 2 "$initrd" "pinion.mode=panic panic=-1"
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" "pinion-guest: panicking on purpose"
	grep -qF "Kernel panic - not syncing: Attempted to kill init!" "$console" ||
		fail "no \"Kernel panic - not syncing: Attempted to kill init!\" on the console"
	expect_no_line "reboot: Power down"
	;;
bad-mode)
	boot 2 "$initrd" "pinion.mode=bogus"
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" \
		"pinion-guest: unknown pinion.mode=bogus (poweroff, panic, ping, spin, stray, bridge, blkbridge, echo, l2echo, blkbench or kernel)" \
		"pinion-guest: powering off"
	;;
ping-no-device)
	boot 2 "$initrd" "pinion.mode=ping"
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" \
		'uio-ping: error: no UIO device whose name starts with "pinion-" (found: none)' \
		"pinion-guest: uio-ping exited with status 1" "pinion-guest: powering off"
	;;
ping-named)
	boot 2 "$initrd" "pinion.mode=ping pinion.uio=pinion-net0"
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" \
		'uio-ping: error: no UIO device named "pinion-net0" (found: none)' \
		"pinion-guest: uio-ping exited with status 1" "pinion-guest: powering off"
	;;
spin)
	# shellcheck disable=SC2046
	timeout "$LIMIT" "$QEMU" $(qemu_args 2) -kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyAMA0 pinion.mode=spin" </dev/null >"$console" 2>&1 &
	qemu_pid=$!
	for _ in $(seq "$LIMIT"); do
		grep -qF "pinion-guest: spinning forever" "$console" && break
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 1
	done
	expect_line "pinion-guest: spinning forever"
	# The guest must still be running a while later: spinning, not halted.
	sleep 3
	if kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid"
		wait "$qemu_pid" || true
	else
		status=0
		wait "$qemu_pid" || status=$?
		fail "QEMU ended (status $status) while the guest should spin"
	fi
	expect_no_line "reboot: Power down"
	;;
init-scripts)
	scripts=$work/scripts
	mkdir -p "$scripts"
	printf '#!/bin/sh\necho "script 20-b ran"\n' >"$scripts/20-b"
	printf '#!/bin/sh\necho "script 10-a ran"\n' >"$scripts/10-a"
	# Not executable: init runs it with sh. Its failure is reported, not fatal.
	printf 'echo "script 30-c ran"\nexit 3\n' >"$scripts/30-c"
	chmod +x "$scripts/10-a" "$scripts/20-b"
	"$build_initramfs" --out "$work/scripts.cpio.gz" --program "$guests/uio-ping" \
		--file "$scripts/20-b:/etc/pinion-init.d/20-b" \
		--file "$scripts/10-a:/etc/pinion-init.d/10-a" \
		--file "$scripts/30-c:/etc/pinion-init.d/30-c" >/dev/null
	boot 2 "$work/scripts.cpio.gz" ""
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" "script 10-a ran" "script 20-b ran" \
		"script 30-c ran" "pinion-guest: /etc/pinion-init.d/30-c failed with status 3" \
		"pinion-guest: powering off"
	;;
uio-timeout)
	# QEMU's own device tree for this machine, plus a generic-uio node over
	# two reserved RAM pages (the doorbell, the shared region) and an SPI
	# nothing raises.
	# shellcheck disable=SC2046
	"$QEMU" $(qemu_args 2) -machine dumpdtb="$work/virt.dtb" >/dev/null 2>&1
	dtc -q -I dtb -O dts -o "$work/uio.dts" "$work/virt.dtb"
	cat >>"$work/uio.dts" <<-'EOF'
		/ {
			reserved-memory {
				#address-cells = <2>;
				#size-cells = <2>;
				ranges;
				pinion-test-pages@47f00000 {
					reg = <0x0 0x47f00000 0x0 0x2000>;
					no-map;
				};
			};
			pinion-test@47f00000 {
				compatible = "generic-uio";
				reg = <0x0 0x47f00000 0x0 0x1000>, <0x0 0x47f01000 0x0 0x1000>;
				interrupts = <0 100 4>;
			};
		};
	EOF
	dtc -q -I dts -O dtb -o "$work/uio.dtb" "$work/uio.dts"
	printf '#!/bin/sh\nuio-ping --name pinion-test --count 3 --timeout-ms 300\necho "uio-ping status $?"\n' \
		>"$work/10-ping"
	chmod +x "$work/10-ping"
	"$build_initramfs" --out "$work/uio.cpio.gz" --program "$guests/uio-ping" \
		--file "$work/10-ping:/etc/pinion-init.d/10-ping" >/dev/null
	# uio_pdrv_genirq binds to "generic-uio" only when told so (of_id).
	boot 2 "$work/uio.cpio.gz" "uio_pdrv_genirq.of_id=generic-uio" -dtb "$work/uio.dtb"
	expect_status 0
	expect_order "pinion-guest: init started on 2 cpus" \
		'uio-ping: /dev/uio0 "pinion-test": doorbell 4096 bytes, shared region mapped: values checked' \
		"uio-ping: error: round trip 1 of 3: no interrupt from the peer within 300 ms (0 of 3 round trips ok)" \
		"uio-ping status 1" "pinion-guest: powering off"
	;;
*)
	echo "$0: unknown case \"$case\"" >&2
	exit 2
	;;
esac

if [[ $failures -ne 0 ]]; then
	echo "--- console of the guest ($console):" >&2
	cat "$console" >&2
	exit 1
fi
echo "boot-plain $case: ok"
