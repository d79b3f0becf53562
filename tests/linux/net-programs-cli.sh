#!/usr/bin/env bash
# Exercises the network guest programs built for the host, as a user would:
# net-bridge's --help, usage errors (exit 2) and set-up failures (exit 1)
# against fake sysfs trees; udp-echo's --help and usage errors, and real
# echoes over loopback, ending after --count echoes and on SIGTERM, each
# time printing its counts; l2-echo's --help and usage errors, and real
# answers through a packet socket on the loopback interface of a network
# namespace of its own. The bridge's paths are unit-tested
# (tests/linux/test_net_bridge.c) and run in guests (tests/linux/net-plain.sh).
# usage: tests/linux/net-programs-cli.sh PATH-OF-net-bridge PATH-OF-udp-echo PATH-OF-l2-echo
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: $0 PATH-OF-net-bridge PATH-OF-udp-echo PATH-OF-l2-echo" >&2
	exit 2
fi
bridge=$1
echo_bin=$2
l2_bin=$3
. "$(dirname "$0")/../cli/lib.sh"

# --- net-bridge ---
bin=$bridge
run --help
expect_status 0 "bridge --help"
expect_in "$out" "usage: net-bridge [--capacity N] [--buffer-size BYTES] [--interface IF] [--rx NAME]" "bridge --help"
expect_in "$out" "--die-after N       test mode: exit with status 3 after N frames received" "bridge --help"
expect_empty "$err" "bridge --help"

run --frobnicate
expect_status 2 "bridge unknown option"
expect_in "$err" 'net-bridge: unknown option "--frobnicate"' "bridge unknown option"
expect_in "$err" "Try 'net-bridge --help'." "bridge unknown option"
expect_empty "$out" "bridge unknown option"
run --capacity 100
expect_status 2 "bridge --capacity 100"
expect_in "$err" '--capacity must be a power of two from 1 to 32768, not "100"' "bridge --capacity 100"
run --rx same --tx same
expect_status 2 "bridge same devices"
expect_in "$err" '--rx and --tx name the same device "same"' "bridge same devices"

# The cheaper paths: listed, and their bad values refused before anything is opened.
run --help
expect_in "$out" "[--sysfs-root DIR] [--qdisc-bypass] [--rx-ring [v2|v3]]" "bridge --help paths"
for option in "--qdisc-bypass " "--rx-ring [v2|v3] " "--rx-ring-block BYTES" "--rx-ring-timeout MS" \
	"--tx-batch " "--fast "; do
	expect_in "$out" "  $option" "bridge --help paths"
done
expect_in "$out" "all of them: --qdisc-bypass --rx-ring --tx-batch" "bridge --help paths"
run --rx-ring v4
expect_status 2 "bridge --rx-ring v4"
expect_in "$err" 'net-bridge: --rx-ring takes v2 or v3, not "v4"' "bridge --rx-ring v4"
expect_empty "$out" "bridge --rx-ring v4"
run --tx-batch=8
expect_status 2 "bridge --tx-batch=8"
expect_in "$err" 'net-bridge: --tx-batch takes no value, not "8"' "bridge --tx-batch=8"
run --fast --rx-ring-block 8192
expect_status 2 "bridge block without v3"
expect_in "$err" "net-bridge: --rx-ring-block and --rx-ring-timeout apply to --rx-ring v3 only" \
	"bridge block without v3"
run --rx-ring v3 --rx-ring-block 5000
expect_status 2 "bridge --rx-ring-block 5000"
expect_in "$err" '--rx-ring-block must be a power of two from 4096 to 4194304, not "5000"' \
	"bridge --rx-ring-block 5000"
run --rx-ring v3 --rx-ring-timeout 0
expect_status 2 "bridge --rx-ring-timeout 0"
expect_in "$err" '--rx-ring-timeout must be a number from 1 to 1000, not "0"' "bridge --rx-ring-timeout 0"
run --rx-ring=v3 --buffer-size 8192
expect_status 2 "bridge block too small"
expect_in "$err" "--rx-ring: a block of 4096 bytes cannot hold a 8192-byte frame whole" \
	"bridge block too small"
# Good paths get as far as the UIO lookup, as without them.
run --fast --rx-ring v3 --sysfs-root "$scratch/empty"
expect_status 1 "bridge --fast no class/uio"
expect_in "$err" "net-bridge: error: no $scratch/empty/class/uio" "bridge --fast no class/uio"

# No UIO at all: the error says so, and nothing is opened.
run --sysfs-root "$scratch/empty"
expect_status 1 "bridge no class/uio"
expect_in "$err" "net-bridge: error: no $scratch/empty/class/uio: this kernel has no UIO" "bridge no class/uio"

# rx is there with its three maps, tx is not.
sys=$scratch/sys
for m in 0 1 2; do
	mkdir -p "$sys/class/uio/uio0/maps/map$m"
	echo "0x000000004c00${m}000" >"$sys/class/uio/uio0/maps/map$m/addr"
	echo 0x0000000000001000 >"$sys/class/uio/uio0/maps/map$m/size"
	echo 0x0 >"$sys/class/uio/uio0/maps/map$m/offset"
done
echo rx >"$sys/class/uio/uio0/name"
run --sysfs-root "$sys"
expect_status 1 "bridge no tx"
expect_in "$err" 'net-bridge: error: no UIO device named "tx" (found: uio0 "rx")' "bridge no tx"
# Both found in sysfs, but this host has no /dev/uio0: named, nothing else done.
for m in 0 1 2; do
	mkdir -p "$sys/class/uio/uio1/maps/map$m"
	echo "0x000000004d00${m}000" >"$sys/class/uio/uio1/maps/map$m/addr"
	echo 0x0000000000001000 >"$sys/class/uio/uio1/maps/map$m/size"
done
echo tx >"$sys/class/uio/uio1/name"
run --sysfs-root "$sys" --rx tx --tx rx
expect_status 1 "bridge no /dev node"
expect_in "$err" 'net-bridge: error: cannot open /dev/uio1 ("tx"):' "bridge no /dev node"
expect_empty "$out" "bridge no /dev node"
run --sysfs-root "$sys" --rx rx0
expect_status 1 "bridge --rx not found"
expect_in "$err" 'net-bridge: error: no UIO device named "rx0" (found: uio0 "rx", uio1 "tx")' "bridge --rx not found"
rm -rf "$sys/class/uio/uio0/maps/map2"
run --sysfs-root "$sys"
expect_status 1 "bridge too few maps"
expect_in "$err" 'uio0 "rx" has 2 maps, fewer than the 3 it needs' "bridge too few maps"

# --- udp-echo ---
bin=$echo_bin
run --help
expect_status 0 "echo --help"
expect_in "$out" "usage: udp-echo [--port PORT] [--count N | --phases N]" "echo --help"
expect_empty "$err" "echo --help"
run --port 0
expect_status 2 "echo --port 0"
expect_in "$err" 'udp-echo: --port must be a number from 1 to 65535, not "0"' "echo --port 0"
expect_in "$err" "Try 'udp-echo --help'." "echo --port 0"
run --count
expect_status 2 "echo --count without a value"
expect_in "$err" "udp-echo: --count needs a value" "echo --count without a value"
run extra
expect_status 2 "echo argument"
expect_in "$err" 'udp-echo: unexpected argument "extra"' "echo argument"

if ! command -v python3 >/dev/null; then
	echo "FAIL: python3 is needed to talk to udp-echo" >&2
	exit 1
fi
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# send_datagrams N: N datagrams to udp-echo, each echo checked; prints "echoed N".
send_datagrams() {
	python3 - "$port" "$1" <<-'EOF'
		import socket, sys, time
		port, n = int(sys.argv[1]), int(sys.argv[2])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(10)
		echoed = 0
		for i in range(n):
		    payload = b"pinion %d " % i + bytes(range(i % 200))
		    s.sendto(payload, ("127.0.0.1", port))
		    try:
		        data, peer = s.recvfrom(2048)
		    except socket.timeout:
		        break
		    if data == payload and peer == ("127.0.0.1", port):
		        echoed += 1
		print("echoed", echoed)
	EOF
}

# wait_bound: until udp-echo says it has bound its port (it prints after bind).
wait_bound() {
	for _ in $(seq 100); do
		grep -qF "udp-echo: echoing UDP port $port" "$out" && return
		sleep 0.1
	done
	fail "udp-echo did not bind port $port within 10 s"
}

# Ends by itself after --count echoes.
"$echo_bin" --port "$port" --count 3 >"$out" 2>"$err" &
pid=$!
wait_bound
answer=$(send_datagrams 3)
status=0
wait "$pid" || status=$?
expect_status 0 "echo --count 3"
[[ $answer == "echoed 3" ]] || fail "echo --count 3: the sender saw \"$answer\", expected \"echoed 3\""
expect_in "$out" "udp-echo: echoing UDP port $port" "echo --count 3"
# Payloads of 9, 10 and 11 bytes, each copied in and out once.
expect_in "$out" 'udp-echo: {"received": 3, "echoed": 3, "send_errors": 0, "truncated": 0, "bytes_copied": 60}' "echo --count 3"

# --phases N ends the same way (its phase markers are no-ops off aarch64).
"$echo_bin" --port "$port" --phases 3 >"$out" 2>"$err" &
pid=$!
wait_bound
answer=$(send_datagrams 3)
status=0
wait "$pid" || status=$?
expect_status 0 "echo --phases 3"
[[ $answer == "echoed 3" ]] || fail "echo --phases 3: the sender saw \"$answer\", expected \"echoed 3\""
expect_in "$out" '"echoed": 3, "send_errors": 0, "truncated": 0, "bytes_copied": 60}' "echo --phases 3"

# Ends on SIGTERM with its counts.
"$echo_bin" --port="$port" >"$out" 2>"$err" &
pid=$!
wait_bound
answer=$(send_datagrams 2)
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
expect_status 0 "echo SIGTERM"
[[ $answer == "echoed 2" ]] || fail "echo SIGTERM: the sender saw \"$answer\", expected \"echoed 2\""
expect_in "$out" 'udp-echo: {"received": 2, "echoed": 2, "send_errors": 0, "truncated": 0, "bytes_copied": 38}' "echo SIGTERM"

# --- l2-echo ---
bin=$l2_bin
run --help
expect_status 0 "l2 --help"
expect_in "$out" "usage: l2-echo --client MAC@IP [--client MAC@IP]... [--interface IF] [--port PORT]" "l2 --help"
expect_empty "$err" "l2 --help"
run
expect_status 2 "l2 no --client"
expect_in "$err" "l2-echo: no --client: whose frames should it answer?" "l2 no --client"
run --client 52:54:00:00:00:02,10.0.0.2
expect_status 2 "l2 bad --client"
expect_in "$err" 'l2-echo: --client must be MAC@IP, e.g. 52:54:00:00:00:02@10.0.0.2, not "52:54:00:00:00:02,10.0.0.2"' "l2 bad --client"
run --client 52:54:00:00:00:02@10.0.0.2 --port 70000
expect_status 2 "l2 --port 70000"
expect_in "$err" 'l2-echo: --port must be a number from 1 to 65535, not "70000"' "l2 --port 70000"
run --client 52:54:00:00:00:02@10.0.0.2 --interface nosuch0
expect_status 1 "l2 no interface"
expect_in "$err" 'l2-echo: error: no network interface "nosuch0"' "l2 no interface"

# Real answers: in a network namespace of its own (root, as CI runs), frames
# written to its loopback interface through a packet socket come back to
# l2-echo's; it answers an ARP request and three UDP datagrams for client
# 52:54:00:00:00:03@10.0.0.3 and ignores a datagram to another port.
if [[ $(id -u) -ne 0 ]] || ! unshare -n true 2>/dev/null; then
	fail "l2-echo's loopback run needs root and unshare -n (CI runs as root)"
else
	unshare -n python3 - "$l2_bin" "$scratch/l2.out" >"$out" 2>"$err" <<-'EOF' || fail "l2-echo loopback run"
		import socket, struct, subprocess, sys, time
		subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
		echo = subprocess.Popen([sys.argv[1], "--interface", "lo", "--client",
		                         "52:54:00:00:00:02@10.0.0.2", "--client",
		                         "52:54:00:00:00:03@10.0.0.3", "--count", "3"],
		                        stdout=open(sys.argv[2], "w"), stderr=subprocess.STDOUT)
		time.sleep(0.5)
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
		s.bind(("lo", 0))
		s.settimeout(5)
		peer = bytes.fromhex("525400000001")
		client = bytes.fromhex("525400000003")
		def csum(b):
		    total = sum(struct.unpack("!10H", b))
		    while total >> 16:
		        total = (total & 0xffff) + (total >> 16)
		    return ~total & 0xffff
		def udp(port, payload):
		    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 1, 0, 64, 17, 0,
		                               bytes([10, 0, 0, 1]), bytes([10, 0, 0, 3])))
		    ip[10:12] = struct.pack("!H", csum(bytes(ip)))
		    frame = client + peer + b"\x08\x00" + bytes(ip) + struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
		    return frame.ljust(60, b"\0")
		arp = (b"\xff" * 6 + peer + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x800, 6, 4, 1) + peer +
		       bytes([10, 0, 0, 1]) + b"\0" * 6 + bytes([10, 0, 0, 3])).ljust(60, b"\0")
		def answer(frame, want):
		    s.send(frame)
		    deadline = time.time() + 5
		    while time.time() < deadline:
		        reply = s.recv(2048)
		        if reply[:6] == peer and reply[6:12] == client and want(reply):
		            return True
		    return False
		ok = answer(arp, lambda r: r[12:14] == b"\x08\x06" and r[20:22] == b"\0\x02")
		s.send(udp(9, b"not the echo port"))
		for i in range(3):
		    payload = b"pinion %d" % i
		    ok = answer(udp(1235, payload), lambda r: r[12:14] == b"\x08\x00" and
		                r[34:36] == b"\x04\xd3" and r[42:42 + len(payload)] == payload) and ok
		echo.wait(10)
		print("answered" if ok else "not answered", "status", echo.returncode)
	EOF
	expect_in "$out" "answered status 0" "l2-echo loopback run"
	cp "$scratch/l2.out" "$out"
	expect_in "$out" "l2-echo: answering 2 client(s) on lo, UDP port 1235" "l2-echo loopback run"
	expect_in "$out" '"echoed": 3, "other_replies": 1' "l2-echo loopback run"
fi

finish net-programs-cli
