#!/usr/bin/env bash
# Boots the network guest (build/<dir>/guests/linux.Image) on plain QEMU
# virt with a virtio-net device on QEMU's UDP socket backend, drives it with
# pinion-loadgen, and checks what comes back and what the guest reports.
#
# usage: tests/linux/net-plain.sh GUESTS_DIR LOADGEN CASE WORK_DIR
# CASE:
#   echo             the native-Linux baseline (net.cpio.gz, pinion.mode=echo):
#                    Linux's ARP and ICMP and udp-echo answer ARP, 4 pings and
#                    1000 UDP datagrams at 10.0.0.2, then 1000 at 10.0.0.3 (the
#                    reply leaves from the address it came to); udp-echo stops
#                    after its 2000 echoes (pinion.echo=--count,2000) and the
#                    guest powers off
#   bridge           net-bridge end to end: the device tree gains the UIO
#                    devices "rx" and "tx" over reserved RAM, and
#                    bridge-test-peer, inside the guest, plays pinion's
#                    multiplexers and two echo clients (52:54:00:00:00:02 at
#                    10.0.0.2, :03 at 10.0.0.3) on the bridge's queues. ARP,
#                    pings and 1000 UDP datagrams to both clients come back
#                    intact; bad descriptors the peer injects (3 rx free, one tx
#                    per 100 replies) are dropped and counted by the bridge; the
#                    counts of both sides agree; the peer then stops the bridge
#                    and the guest powers off
#   bridge-fast      the same with the bridge's cheaper paths (--fast --rx-ring
#                    v3: the receive ring in blocks, sendmmsg, no qdisc): the
#                    same checks, and frames went out in batches
#   bridge-die       the same with --die-after 100: the bridge exits with status
#                    3 after 100 frames, init exits, Linux panics and (panic=-1)
#                    resets, which ends QEMU (-no-reboot); the load generator
#                    sees the echoes stop
#   bridge-no-device pinion.mode=bridge without UIO devices: net-bridge names
#                    what is missing, its status is reported, the guest powers off
set -euo pipefail

if [[ $# -ne 4 ]]; then
	echo "usage: $0 GUESTS_DIR LOADGEN CASE WORK_DIR" >&2
	exit 2
fi
guests=$1
loadgen=$2
case=$3
work=$4/$case
here=$(cd "$(dirname "$0")" && pwd)
build_initramfs=$here/../../driver-vms/initramfs/build-initramfs
QEMU=${QEMU:-qemu-system-aarch64}
# Seconds a boot with its traffic may take: a few on an idle 2-core host.
LIMIT=${PINION_BOOT_LIMIT:-120}

kernel=$guests/linux.Image
for f in "$kernel" "$guests/net.cpio.gz" "$guests/net-bridge" "$guests/bridge-test-peer" "$loadgen"; do
	if [[ ! -f $f ]]; then
		echo "FAIL: $f is missing: build first (cmake --build build/release)" >&2
		exit 1
	fi
done
for tool in "$QEMU" python3 dtc; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool not found (run tools/install-deps)" >&2
		exit 1
	fi
done
rm -rf "$work"
mkdir -p "$work"
console=$work/console.txt
failures=0
qemu_pid=

fail() {
	echo "FAIL ($case): $*" >&2
	failures=$((failures + 1))
}

cleanup() {
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# Two free UDP ports on loopback: where the load generator listens, where QEMU does.
read -r lg_port qemu_port < <(python3 -c '
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

machine_args() {
	echo -M virt,gic-version=3 -cpu cortex-a72 -smp "$1" -m 256M -nographic -no-reboot \
		-global virtio-mmio.force-legacy=false
}

net_args() {
	echo -netdev "socket,id=n0,udp=127.0.0.1:$lg_port,localaddr=127.0.0.1:$qemu_port" \
		-device "virtio-net-device,netdev=n0,mac=52:54:00:12:34:56"
}

# start_qemu SMP INITRD APPEND [QEMU ARGS...]: in the background, console in $console.
start_qemu() {
	local smp=$1 initrd=$2 append=$3
	shift 3
	# shellcheck disable=SC2046
	timeout "$LIMIT" "$QEMU" $(machine_args "$smp") $(net_args) -kernel "$kernel" \
		-initrd "$initrd" -append "console=ttyAMA0 quiet $append" "$@" </dev/null \
		>"$console" 2>&1 &
	qemu_pid=$!
}

# wait_line TEXT: until TEXT is on the console; fails if QEMU ends or LIMIT passes.
wait_line() {
	for _ in $(seq $((LIMIT * 10))); do
		grep -qF -- "$1" "$console" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "no \"$1\" on the console"
	return 1
}

# wait_qemu: QEMU's status in $status once it ends by itself.
wait_qemu() {
	status=0
	wait "$qemu_pid" || status=$?
	qemu_pid=
	[[ $status -ne 124 ]] || fail "the guest did not finish within $LIMIT s"
}

# run_loadgen NAME ARGS...: pinion-loadgen's status in $lg_status, its report in $work/NAME.*
run_loadgen() {
	local name=$1
	shift
	lg_status=0
	"$loadgen" --port "$qemu_port" --listen "$lg_port" --arp-timeout 60 --quiet \
		--json "$work/$name.json" "$@" >"$work/$name.txt" 2>&1 || lg_status=$?
}

expect_line() {
	grep -qF -- "$1" <(tr -d '\r' <"$console") || fail "no \"$1\" on the console"
}

expect_no_line() {
	! grep -qF -- "$1" "$console" || fail "\"$1\" on the console, unexpected"
}

expect_in_file() {
	grep -qF -- "$2" "$1" || fail "no \"$2\" in $(basename "$1")"
}

# check_json PYTHON-EXPRESSIONS: each line an assertion over `lg` (the loadgen
# report, if any), `bridge` and `peer` (the guest's count lines, if any).
check_json() {
	python3 - "$console" "$work" "$1" <<-'EOF' || fail "count checks failed (above)"
		import json, pathlib, sys
		console, work, checks = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
		def line(prefix):
		    found = [l[len(prefix):] for l in open(console, errors="replace").read().splitlines()
		             if l.startswith(prefix + "{")]
		    return json.loads(found[-1]) if found else None
		bridge, peer = line("net-bridge: "), line("bridge-test-peer: ")
		echo = line("udp-echo: ")
		lg = {p.stem: json.load(open(p)) for p in work.glob("*.json")}
		bad = 0
		for check in filter(None, (c.strip() for c in checks.splitlines())):
		    try:
		        ok = eval(check)
		    except Exception as e:
		        ok = False
		        check += f" ({type(e).__name__}: {e})"
		    if not ok:
		        print(f"check failed: {check}", file=sys.stderr)
		        bad += 1
		print(f"bridge: {bridge}\npeer: {peer}\necho: {echo}", file=sys.stderr) if bad else None
		sys.exit(1 if bad else 0)
	EOF
}

# The bridge's world on plain QEMU: QEMU's own device tree plus the UIO
# devices "rx" and "tx" as pinion-image writes them for a driver VM (a
# doorbell page, the queue pair, the data regions), over reserved RAM that
# QEMU zeroes (a zeroed queue region is a formatted, empty pair), and an
# initramfs whose start-up script runs the peer.
bridge_setup() {
	# shellcheck disable=SC2046
	"$QEMU" $(machine_args 2) $(net_args) -machine dumpdtb="$work/virt.dtb" >/dev/null 2>&1
	dtc -q -I dtb -O dts -o "$work/bridge.dts" "$work/virt.dtb"
	cat >>"$work/bridge.dts" <<-'EOF'
		/ {
			reserved-memory {
				#address-cells = <2>;
				#size-cells = <2>;
				ranges;
				bridge-queues@4c000000 {
					reg = <0x0 0x4c000000 0x0 0x400000>;
					no-map;
				};
			};
			rx@4c000000 {
				compatible = "generic-uio";
				reg = <0x0 0x4c000000 0x0 0x1000>, <0x0 0x4c010000 0x0 0x5000>,
				      <0x0 0x4c100000 0x0 0x100000>;
				reg-names = "doorbell", "rx", "rx_data";
				interrupts = <0 100 1>;
				linux,uio-name = "rx";
			};
			tx@4c001000 {
				compatible = "generic-uio";
				reg = <0x0 0x4c001000 0x0 0x1000>, <0x0 0x4c020000 0x0 0x5000>,
				      <0x0 0x4c200000 0x0 0x80000>, <0x0 0x4c300000 0x0 0x80000>;
				reg-names = "doorbell", "tx", "client0_data", "client1_data";
				interrupts = <0 101 1>;
				linux,uio-name = "tx";
			};
		};
	EOF
	dtc -q -I dts -O dtb -o "$work/bridge.dtb" "$work/bridge.dts"
	cat >"$work/10-peer" <<-'EOF'
		#!/bin/sh
		# pinion's side of the queues; once it has echoed the test's datagrams
		# it stops the bridge, and init powers off.
		(
			/bin/bridge-test-peer --echoes 1000 --bad-free 3 --bad-tx-every 100
			killall -TERM net-bridge
		) &
	EOF
	chmod +x "$work/10-peer"
	"$build_initramfs" --out "$work/bridge.cpio.gz" --program "$guests/net-bridge" \
		--program "$guests/bridge-test-peer" --file "$work/10-peer:/etc/pinion-init.d/10-peer" \
		>/dev/null
}

# shellcheck disable=SC2054 # the commas are inside the arguments
clients=(--target 52:54:00:00:00:02,10.0.0.2 --target 52:54:00:00:00:03,10.0.0.3)

case $case in
echo)
	start_qemu 1 "$guests/net.cpio.gz" "pinion.mode=echo pinion.echo=--count,2000"
	if wait_line "udp-echo: echoing UDP port 1235"; then
		run_loadgen first --mode all --packets 1000 --target 52:54:00:12:34:56,10.0.0.2
		[[ $lg_status -eq 0 ]] || fail "pinion-loadgen at 10.0.0.2 exited with $lg_status"
		run_loadgen second --mode udp --packets 1000 --target 52:54:00:12:34:56,10.0.0.3
		[[ $lg_status -eq 0 ]] || fail "pinion-loadgen at 10.0.0.3 exited with $lg_status"
	fi
	wait_qemu
	[[ $status -eq 0 ]] || fail "QEMU exited with status $status, expected 0"
	check_json '
		lg["first"]["ok"] and lg["second"]["ok"]
		lg["first"]["targets"][0]["arp"] == "ok"
		lg["first"]["total"]["ping"] == {"sent": 4, "replied": 4, "bad": 0, "lost": 0}
		lg["first"]["total"]["echoed"] == 1000 and lg["second"]["total"]["echoed"] == 1000
		echo == {"received": 2000, "echoed": 2000, "send_errors": 0, "truncated": 0, "bytes_copied": 256000}'
	expect_line "pinion-guest: udp-echo ready"
	expect_line "pinion-guest: udp-echo exited with status 0"
	expect_line "reboot: Power down"
	;;
bridge | bridge-fast)
	bridge_args=--poll-ms,1
	if [[ $case == bridge-fast ]]; then
		bridge_args+=,--fast,--rx-ring,v3
	fi
	bridge_setup
	start_qemu 2 "$work/bridge.cpio.gz" \
		"uio_pdrv_genirq.of_id=generic-uio pinion.mode=bridge pinion.bridge=$bridge_args" \
		-dtb "$work/bridge.dtb"
	if wait_line "net-bridge: up:"; then
		run_loadgen udp --mode all --packets 1000 "${clients[@]}"
		[[ $lg_status -eq 0 ]] || fail "pinion-loadgen exited with $lg_status"
	fi
	wait_qemu
	[[ $status -eq 0 ]] || fail "QEMU exited with status $status, expected 0"
	expect_line 'net-bridge: up: eth0, rx /dev/uio0 "rx" (1048576-byte data region at 0x4c100000), tx /dev/uio1 "tx" (2 transmit regions), capacity 512, buffers of 2048 bytes'
	check_json '
		lg["udp"]["ok"] and [t["arp"] for t in lg["udp"]["targets"]] == ["ok", "ok"]
		[t["echoed"] for t in lg["udp"]["targets"]] == [500, 500]
		lg["udp"]["total"]["ping"]["replied"] == 8
		peer["replies_udp"] == 1000 and peer["replies_icmp"] == 8 and peer["replies_arp"] >= 2
		peer["bad_free_injected"] == 3 and peer["bad_tx_injected"] == 10
		peer["no_tx_buffer"] == 0 and peer["bad_returned"] == 0 and peer["corrupt"] == 0
		bridge["bad_free_desc"] == 3 and bridge["bad_tx_desc"] == 10
		bridge["rx_frames"] == peer["rx_frames"]
		bridge["tx_frames"] == peer["replies_arp"] + peer["replies_icmp"] + peer["replies_udp"]
		bridge["rx_dropped_no_buffer"] == bridge["rx_dropped_too_long"] == 0
		bridge["rx_dropped_ring_full"] == bridge["corrupt_rings"] == 0
		bridge["tx_send_errors"] == bridge["rx_receive_errors"] == 0
		bridge["rx_doorbells"] > 0 and bridge["rx_doorbells"] == peer["rx_doorbell_value"]
		bridge["tx_doorbells"] == peer["tx_doorbell_value"]
		bridge["rx_irqs"] == bridge["tx_irqs"] == 0'
	if [[ $case == bridge-fast ]]; then
		expect_line "net-bridge: receive: ring v3 (270 blocks of 4096 bytes, retired after 1 ms); transmit: sendmmsg per batch, past the queueing discipline"
		check_json '0 < bridge["tx_batches"] <= bridge["tx_frames"]'
	else
		expect_line "net-bridge: receive: recvfrom; transmit: send per frame"
		check_json 'bridge["tx_batches"] == 0'
	fi
	expect_line "net-bridge: stopping on signal 15"
	expect_line "pinion-guest: net-bridge exited with status 0"
	expect_line "reboot: Power down"
	;;
bridge-die)
	bridge_setup
	start_qemu 2 "$work/bridge.cpio.gz" \
		"panic=-1 uio_pdrv_genirq.of_id=generic-uio pinion.mode=bridge pinion.bridge=--poll-ms,1,--die-after,100" \
		-dtb "$work/bridge.dtb"
	if wait_line "net-bridge: up:"; then
		run_loadgen udp --mode udp --packets 1000 --timeout 1 "${clients[@]}"
		[[ $lg_status -eq 1 ]] || fail "pinion-loadgen exited with $lg_status, expected 1 (echoes stop)"
	fi
	wait_qemu
	[[ $status -eq 0 ]] || fail "QEMU exited with status $status, expected 0 (reset, -no-reboot)"
	check_json '
		bridge["rx_frames"] == 100
		0 < lg["udp"]["total"]["echoed"] <= 100 and lg["udp"]["total"]["lost"] > 0
		lg["udp"]["total"]["corrupted"] == lg["udp"]["total"]["duplicated"] == 0'
	expect_line "net-bridge: dying after 100 frames received (--die-after)"
	expect_line "pinion-guest: net-bridge exited with status 3"
	expect_line "Kernel panic - not syncing: Attempted to kill init!"
	expect_no_line "reboot: Power down"
	;;
bridge-no-device)
	start_qemu 1 "$guests/net.cpio.gz" "pinion.mode=bridge pinion.bridge=--capacity,256"
	wait_qemu
	[[ $status -eq 0 ]] || fail "QEMU exited with status $status, expected 0"
	expect_line 'net-bridge: error: no UIO device named "rx" (found: none)'
	expect_line "pinion-guest: net-bridge exited with status 1"
	expect_line "reboot: Power down"
	;;
*)
	echo "$0: unknown case \"$case\"" >&2
	exit 2
	;;
esac

if [[ $failures -ne 0 ]]; then
	echo "--- console of the guest ($console):" >&2
	cat "$console" >&2
	for report in "$work"/*.txt; do
		[[ -f $report ]] || continue
		echo "--- $(basename "$report"):" >&2
		cat "$report" >&2
	done
	exit 1
fi
echo "net-plain $case: ok"
