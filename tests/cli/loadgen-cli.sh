#!/usr/bin/env bash
# Exercises pinion-loadgen as a user would, without a guest: help, every
# kind of usage error (exit 2, a message naming the bad argument), and runs
# against nobody, which must fail (exit 1) after the ARP timeout with the
# failure in the summary and in an atomically written JSON report.
# (tests/unit/test_loadgen_engine.c runs it against a fake guest.)
# usage: tests/cli/loadgen-cli.sh PATH-OF-pinion-loadgen
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 PATH-OF-pinion-loadgen" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/lib.sh"

# A UDP port on 127.0.0.1 that nobody listens on (bound by the kernel's choice, then released).
free_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

target=52:54:00:00:00:10,10.0.0.10
base=(--port 47001 --listen 47002 --target "$target")

run --help
expect_status 0 "--help"
expect_in "$out" "usage: pinion-loadgen --port QEMU_PORT --listen LG_PORT --target MAC,IP[,UDPPORT]" "--help"
expect_in "$out" "-netdev socket,id=n0,udp=127.0.0.1:LG_PORT,localaddr=127.0.0.1:QEMU_PORT" "--help"
expect_in "$out" "Exit status:" "--help"
expect_empty "$err" "--help"
run -h
expect_status 0 "-h"

run
expect_status 2 "no arguments"
expect_in "$err" "usage:" "no arguments"

# usage_error ARGS... -- TEXT: exit 2, TEXT and the hint on stderr, nothing on stdout.
usage_error() {
	local args=() text
	while [[ $1 != -- ]]; do
		args+=("$1")
		shift
	done
	text=$2
	run "${args[@]}"
	expect_status 2 "${args[*]}"
	expect_in "$err" "$text" "${args[*]}"
	expect_in "$err" "Try 'pinion-loadgen --help'." "${args[*]}"
	expect_empty "$out" "${args[*]}"
}

usage_error --listen 47002 --target "$target" -- "--port is required"
usage_error --port 47001 --target "$target" -- "--listen is required"
usage_error --port 47001 --listen 47002 -- "no --target given"
usage_error --port 0 --listen 47002 --target "$target" -- '--port "0": not a port number'
usage_error --port 65536 --listen 47002 --target "$target" -- '--port "65536"'
usage_error --port 47001 --listen x --target "$target" -- '--listen "x"'
usage_error --port 47001 --listen 47001 --target "$target" -- "--port and --listen must differ"
usage_error --port 47001 --port 47003 --listen 47002 --target "$target" -- "--port given twice"
usage_error "${base[@]}" --window 0 -- '--window "0"'
usage_error "${base[@]}" --size 15 -- '--size "15": expected payload bytes from 16 to 1472'
usage_error "${base[@]}" --size 1473 -- '--size "1473"'
usage_error "${base[@]}" --packets 0 -- '--packets "0"'
usage_error "${base[@]}" --packets 12x -- '--packets "12x"'
usage_error "${base[@]}" --pings 65537 -- '--pings "65537"'
usage_error "${base[@]}" --timeout 0 -- '--timeout "0"'
usage_error "${base[@]}" --timeout -1 -- '--timeout "-1"'
usage_error "${base[@]}" --arp-timeout soon -- '--arp-timeout "soon"'
usage_error "${base[@]}" --mode tcp -- '--mode "tcp": expected udp, arp, ping or all'
usage_error "${base[@]}" --mac 52:54:00:ff:00 -- '--mac "52:54:00:ff:00"'
usage_error "${base[@]}" --ip 10.0.0 -- '--ip "10.0.0"'
usage_error "${base[@]}" --json -- "--json needs a value"
usage_error "${base[@]}" --bogus 1 -- 'unknown option "--bogus"'
usage_error "${base[@]}" stray -- 'unexpected argument "stray"'
usage_error --port 47001 --listen 47002 --target 52:54:00:00:00:1g,10.0.0.10 -- "the MAC is not"
usage_error --port 47001 --listen 47002 --target 52:54:00:00:00:10,10.0.0.256 -- "the IPv4 address is not"
usage_error --port 47001 --listen 47002 --target 52:54:00:00:00:10,10.0.0.10,0 -- "the UDP port is not"
usage_error --port 47001 --listen 47002 --target 52:54:00:00:00:10 -- "no IPv4 address after the MAC"
usage_error "${base[@]}" --target 52:54:00:00:00:11,10.0.0.10 -- "--target 1 and --target 2 share an IP address"
usage_error "${base[@]}" --ip 10.0.0.10 -- "--target 1 has our own MAC or IP address"
usage_error "${base[@]}" --mode ping --packets 3 --pings 3 -- "give --packets or --pings, not both"
usage_error "${base[@]}" --mode ping --packets 70000 -- "at most 65536 per target"

# Against nobody: ARP goes unanswered, the run stops after a few silent
# timeouts, and says so; the JSON report appears whole, with nothing beside it.
qemu_port=$(free_port)
listen_port=$(free_port)
nobody=(--port "$qemu_port" --listen "$listen_port" --target "$target"
	--target "52:54:00:00:00:11,10.0.0.11,1236" --timeout 0.1 --arp-timeout 0.3)
mkdir "$scratch/json"
report=$scratch/json/result.json
run "${nobody[@]}" --packets 1000 --json "$report"
expect_status 1 "run against nobody"
expect_in "$out" "target 0 52:54:00:00:00:10 10.0.0.10:1235: arp no reply" "run against nobody"
expect_in "$out" "target 1 52:54:00:00:00:11 10.0.0.11:1236: arp no reply" "run against nobody"
expect_in "$out" "stopped sending datagrams after 3 timeouts in a row without an echo" "run against nobody"
expect_in "$out" "result: FAILED" "run against nobody"
[[ $(ls -A "$scratch/json") == result.json ]] || fail "run against nobody: temporary files left: $(ls -A "$scratch/json")"
if ! python3 - "$report" <<'EOF'; then
import json, sys
r = json.load(open(sys.argv[1]))
assert r["mode"] == "udp" and r["ok"] is False, r
assert [t["arp"] for t in r["targets"]] == ["failed", "failed"], r["targets"]
assert r["targets"][1]["port"] == 1236 and r["targets"][1]["ip"] == "10.0.0.11"
assert r["targets"][0]["ping"] is None
t = r["total"]
assert t["sent"] == 96 and t["lost"] == 96 and t["echoed"] == 0 and t["udp_stalled"] is True, t
assert r["window"] == 32 and r["size"] == 64 and r["packets"] == 1000
assert isinstance(r["elapsed_s"], float)
EOF
	fail "run against nobody: JSON report $(cat "$report")"
fi

# Progress lines on stderr, unless --quiet.
run "${nobody[@]}" --mode arp
expect_status 1 "arp mode against nobody"
expect_in "$err" "arp: 0 of 2 targets answered" "arp mode against nobody"
expect_in "$out" "pinion-loadgen arp: 2 targets" "arp mode against nobody"
run "${nobody[@]}" --mode arp --quiet
expect_status 1 "--quiet"
expect_empty "$err" "--quiet"

# Problems that are not usage errors: exit 1 with a message naming the culprit.
run "${nobody[@]}" --mode arp --quiet --json "$scratch/no-such-dir/r.json"
expect_status 1 "unwritable --json"
expect_in "$err" "$scratch/no-such-dir/r.json: cannot create" "unwritable --json"
# A port held by another process: the holder binds a port of the kernel's
# choosing and says which once it holds it, so nothing can race for it.
held=$scratch/held-port
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$held" &
holder=$!
for _ in $(seq 200); do
	[[ -s $held ]] && break
	sleep 0.05
done
held_port=$(cat "$held")
[[ -n $held_port ]] || fail "the port holder did not start"
run --port "$qemu_port" --listen "$held_port" --target "$target" --timeout 0.1 --arp-timeout 0.3 \
	--mode arp --quiet
kill "$holder"
wait "$holder" 2>/dev/null || true
expect_status 1 "--listen port in use"
expect_in "$err" "cannot listen on 127.0.0.1:$held_port (--listen)" "--listen port in use"

finish loadgen-cli
