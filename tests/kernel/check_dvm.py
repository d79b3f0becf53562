#!/usr/bin/env python3
"""
End-to-end tests of the network driver VM: the UDP echo with Linux's
virtio-net driver in a driver VM instead of pinion's own driver, through
experiments/run and pinion-loadgen. systems/net-echo-dvm.json bridges it
to pinion's queues with the in-kernel bridge (driver-vms/kernel/), and
systems/net-echo-dvm-uio.json with the user-space bridge over UIO (the
LionsOS way): each echoes, each is killed mid-run; the in-kernel bridge is
also fed corrupt descriptors by both multiplexers, spread over two vCPUs
(systems/net-echo-dvm-2vcpu.json), run with its transmit vCPU polling, and
transmitting from the clients' buffers (zero-copy). The user-space bridge
also echoes with its cheaper paths (--fast: receive ring, sendmmsg, no qdisc).

The native-Linux baselines (experiments/net/linux-baseline) are checked
here too: the same guest kernel booted directly, echoing in user space
over UDP sockets, at layer 2 over a packet socket, and in the kernel.

usage: check_dvm.py BUILD_DIR WORK_DIR TEST
tests: dvm-echo dvm-echo-1core dvm-2vcpu-echo dvm-polling dvm-zero-copy dvm-bad-descriptors
       dvm-killed dvm-uio-echo dvm-uio-fast-echo dvm-uio-killed linux-baseline linux-l2
       linux-kernel
"""

import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_kernel import (REPO, check, check_echoes, run, run_named_test,  # noqa: E402
                          system_variant)

PACKETS = 10000
KILL_AFTER = 2000  # frames the bridge receives before it dies
INJECT_EVERY = 50  # frames (tx) or buffers returned (rx) between two corrupt descriptors
KERNEL_SYSTEM = "systems/net-echo-dvm.json"
UIO_SYSTEM = "systems/net-echo-dvm-uio.json"
TWO_VCPU_SYSTEM = "systems/net-echo-dvm-2vcpu.json"
THREE_CORES_TWO_VCPUS = "systems/placements/net-echo-dvm-2vcpu-3core.json"
TWO_CORES = "systems/placements/net-echo-dvm-2core.json"
ONE_CORE = "systems/placements/net-echo-dvm-1core.json"
NATIVE = ["net_virt_rx", "net_virt_tx", "client0_net_copier", "client1_net_copier", "client0",
          "client1"]
# Counters of the native PDs that count a peer's corrupt or misplaced descriptor.
CORRUPTION = ["bad_driver_desc", "bad_client_desc", "bad_virt_desc", "rx_bad_desc", "tx_bad_desc",
              "ring_errors"]
KERNEL_BRIDGE_LINE = re.compile(r"pinion-net-bridge: (\{.*\})\s*$", re.MULTILINE)


def natives_healthy(s):
    check(not s["faults"], f"PDs faulted: {s['faults']}")
    for pd in NATIVE:
        check(s["pd_states"].get(pd) in ("runnable", "waiting"),
              f"{pd} is {s['pd_states'].get(pd)} at the end")
        bad = {k: v for k, v in s["pd_counters"].get(pd, {}).items() if k in CORRUPTION and v}
        check(not bad, f"{pd} saw corrupt descriptors: {bad}")


def guest_split(s):
    vm = s["phases"]["1"]["vms"]["net_vm"]
    return vm, vm["vcpus"][0]["instructions"]


def check_profile(work, name, s, must_have, must_not_have=()):
    """The guest kernel counted per function too (docs/accounting.md), covering all of it;
    functions named by must_have prefixes counted, none named by must_not_have ones."""
    vm, _ = guest_split(s)
    functions = json.loads((Path(work) / name / "counts.json").read_text()).get("functions")
    check(functions is not None and s.get("symbols"),
          f"no per-function counts (symbols: {s.get('symbols')})")
    phase1 = next((p["counts"] for p in functions["phases"] if p["phase"] == 1), [])
    attributed = sum(n for _, n in phase1)
    guest_kernel = sum(v["instructions"]["guest_kernel"] for v in vm["vcpus"])
    check(attributed >= 0.95 * guest_kernel,
          f"functions hold {attributed:,} of the {guest_kernel:,} guest-kernel instructions")
    for prefix in must_have:
        check(any(name.startswith(prefix) for name, _ in phase1), f"no {prefix}* function counted")
    for prefix in must_not_have:
        found = [(name, n) for name, n in phase1 if name.startswith(prefix) and n]
        check(not found, f"{found} counted: the path should not be taken")


def kernel_bridge_echo(build, work, name, placement, system=KERNEL_SYSTEM):
    s, console = run(build, work, name, system, placement, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"])
    check_echoes(s, PACKETS)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    check("pinion-net-bridge: up: eth0" in console, "the in-kernel bridge did not come up")
    vm, ins = guest_split(s)
    # No user space on a packet's way: init sleeps, the bridge is in the kernel.
    check(ins["guest_kernel"] > 0 and ins["user"] * 1000 < ins["guest_kernel"],
          f"guest split: {ins}")
    # Every vCPU on its own core does its share (two: receive on one, transmit on the other).
    for vcpu in vm["vcpus"]:
        check(vcpu["instructions"]["guest_kernel"] > 100 * PACKETS,
              f"vCPU {vcpu['vcpu']} did almost nothing: {vcpu['instructions']}")
    check(vm["exits"].get("doorbell", 0) > 0 and vm["exits"].get("virqs", 0) > 0,
          f"no doorbells or virtual interrupts in the measured phase: {vm['exits']}")
    check_profile(work, name, s, ["virtnet_", "net_bridge_receive", "pinion_bridge_rx_handler"])
    return (f"{PACKETS} packets echoed through the driver VM's in-kernel bridge to both clients, "
            f"{s['per_io']['all_instructions']:,.0f} instructions per packet")


def dvm_polling(build, work):
    # The two-vCPU driver VM with its transmit vCPU polling: never asks for a
    # notification, spins in pinion_bridge_poll_idle between frames. Its counts
    # come once it is idle after the load.
    def poll(system):
        vm = system["vms"][0]
        vm["bootargs"] = vm["bootargs"].replace("pinion_net_bridge.report_every=20000", "")
        vm["bootargs"] += " pinion_net_bridge.poll_tx=1 pinion_net_bridge.report_idle_ms=500"

    path = system_variant(work, "dvm-polling", TWO_VCPU_SYSTEM, poll)
    packets = 2000
    s, console = run(build, work, "dvm-polling", str(path), THREE_CORES_TWO_VCPUS, timeout=600,
                     extra=["--packets", str(packets), "--window", "64",
                            "--end-on", KERNEL_BRIDGE_LINE.pattern])
    check_echoes(s, packets)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    check_profile(work, "dvm-polling", s, ["pinion_bridge_poll_idle", "pinion_bridge_poll_thread"])
    counts = json.loads(KERNEL_BRIDGE_LINE.findall(console)[-1])
    # Polling, the bridge asks the transmit multiplexer for no notification: at
    # most one that raced with the withdrawal of the queue logic's request.
    check(counts["tx_frames"] >= packets and counts["tx_irqs"] * 100 < counts["tx_frames"],
          f"{counts['tx_irqs']} transmit notifications for {counts['tx_frames']} frames: "
          f"not polling?")
    return (f"{packets} packets echoed through the driver VM with its transmit vCPU polling, "
            f"{counts['tx_irqs']} transmit notifications for {counts['tx_frames']} frames")


def dvm_zero_copy(build, work):
    # The regions in the guest's memory map, and transmission from the clients'
    # buffers: refused on QEMU's socket-backed device, which cannot gather
    # (zero_copy_tx=1), and forced (zero_copy_tx=2), the skbs' destructor then
    # returning every buffer.
    def in_ram(level):
        def change(system):
            system["vms"][0]["regions_in_guest_ram"] = True
            system["vms"][0]["bootargs"] += f" pinion_net_bridge.zero_copy_tx={level}"
        return change

    refused_path = system_variant(work, "dvm-zero-copy-refused", KERNEL_SYSTEM, in_ram(1))
    s, console = run(build, work, "dvm-zero-copy-refused", str(refused_path), TWO_CORES,
                     timeout=600, extra=["--packets", "2000", "--window", "64"])
    check("eth0 cannot gather (no NETIF_F_SG)" in console,
          "zero_copy_tx=1 did not refuse a device that cannot gather")
    check_echoes(s, 2000)
    path = system_variant(work, "dvm-zero-copy", KERNEL_SYSTEM, in_ram(2))
    s, console = run(build, work, "dvm-zero-copy", str(path), TWO_CORES, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"])
    check("zero-copy transmission" in console, "the bridge did not transmit zero-copy")
    check_echoes(s, PACKETS)
    natives_healthy(s)
    # Every buffer came back to its client exactly once, by the skbs' destructor.
    check(s["pd_counters"]["net_virt_tx"].get("bad_driver_desc", 0) == 0,
          f"buffers came back wrong: {s['pd_counters']['net_virt_tx']}")
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    return (f"{PACKETS} packets echoed with the regions in the guest's memory map and frames "
            f"sent from the clients' buffers; refused where the device cannot gather")


def dvm_bad_descriptors(build, work):
    # Both multiplexers hand the bridge corrupt descriptors now and then; the
    # bridge reports its counts once idle after the load (report_idle_ms), and
    # only then (no report_every), so the run ends on its last counts.
    def corrupt_peers(system):
        vm = system["vms"][0]
        vm["bootargs"] = vm["bootargs"].replace("pinion_net_bridge.report_every=20000", "")
        vm["bootargs"] += " pinion_net_bridge.report_idle_ms=500"

    path = system_variant(work, "dvm-bad-descriptors", KERNEL_SYSTEM, corrupt_peers)
    s, console = run(build, work, "dvm-bad-descriptors", str(path), TWO_CORES, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64",
                            "--set", f"net_virt_tx.inject_bad_every={INJECT_EVERY}",
                            "--set", f"net_virt_rx.inject_bad_every={INJECT_EVERY}",
                            "--end-on", KERNEL_BRIDGE_LINE.pattern])
    check_echoes(s, PACKETS)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    counts = json.loads(KERNEL_BRIDGE_LINE.findall(console)[-1])
    tx_injected = s["pd_counters"]["net_virt_tx"]["injected_bad_desc"]
    rx_injected = s["pd_counters"]["net_virt_rx"]["injected_bad_desc"]
    check(tx_injected >= PACKETS // INJECT_EVERY // 2 and rx_injected > 0,
          f"too few corrupt descriptors injected: tx {tx_injected}, rx {rx_injected}")
    check(counts["bad_tx_desc"] == tx_injected,
          f"{tx_injected} corrupt transmit descriptors injected, the bridge counted "
          f"{counts['bad_tx_desc']}")
    # Free descriptors are taken only as frames arrive: those injected last may
    # still wait in the free ring when the load ends, behind buffers never needed.
    check(0 < counts["bad_free_desc"] <= rx_injected,
          f"{rx_injected} corrupt free descriptors injected, the bridge counted "
          f"{counts['bad_free_desc']}")
    check(counts["corrupt_rings"] == 0, f"the bridge saw a corrupt ring: {counts}")
    # Handed back, an injected transmit address would be counted by the multiplexer.
    check(s["pd_counters"]["net_virt_tx"].get("bad_driver_desc", 0) == 0,
          "the bridge handed a corrupt descriptor back")
    return (f"{tx_injected} corrupt transmit descriptors and {counts['bad_free_desc']} of "
            f"{rx_injected} corrupt free ones (found as frames needed buffers) dropped and counted by the "
            f"in-kernel bridge; every packet still echoed")


def dvm_killed(build, work, name, source, kill, died):
    # The bridge dies after KILL_AFTER frames; Linux panics and (panic=-1)
    # asks for a reset: the kernel stops the VM. The load generator sees the
    # rest of the packets lost.
    def die_mid_run(system):
        system["vms"][0]["bootargs"] += f" panic=-1 {kill}"

    path = system_variant(work, name, source, die_mid_run)
    s, console = run(build, work, name, str(path), TWO_CORES, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"], expect_failure=True)
    check("not every packet came back" in s.get("reason", ""),
          f"the run should fail for the lost packets: {s.get('reason')}")
    check(died in console, f"the bridge did not die on purpose (no \"{died}\")")
    state = s["vm_states"]["net_vm"]
    check(state["stopped"] and "SYSTEM_RESET" in (state["why"] or ""),
          f"the driver VM was not reported stopped: {state}")
    echoed = s["load"]["total"]["echoed"]
    check(0 < echoed < PACKETS, f"{echoed} packets echoed: the VM did not die mid-run")
    natives_healthy(s)
    check("'q' typed at the console" in (s.get("ended") or ""), f"run ended: {s.get('ended')}")
    dropped = s["total"]["events"].get("notify_dropped", 0)
    return (f"driver VM killed after {echoed} echoes: reported stopped ({state['why']}); "
            f"native PDs unharmed, {dropped} notifications to it dropped")


def dvm_uio_echo(build, work):
    s, console = run(build, work, "dvm-uio-echo", UIO_SYSTEM, TWO_CORES, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"])
    check_echoes(s, PACKETS)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    vm, ins = guest_split(s)
    check(ins["guest_kernel"] > 0 and ins["user"] > 0, f"guest split: {ins}")
    check(vm["exits"].get("doorbell", 0) > 0 and vm["exits"].get("virqs", 0) > 0,
          f"no doorbells or virtual interrupts in the measured phase: {vm['exits']}")
    check_profile(work, "dvm-uio-echo", s, ["virtnet_", "packet_", "uio_"])
    return (f"{PACKETS} packets echoed through the driver VM's user-space bridge to both "
            f"clients, {s['per_io']['all_instructions']:,.0f} instructions per packet")


def dvm_uio_fast_echo(build, work):
    # The user-space bridge with every cheaper path (--fast): the receive
    # ring instead of recvfrom, sendmmsg per batch, past the qdisc.
    def fast(system):
        vm = system["vms"][0]
        vm["bootargs"] = vm["bootargs"].replace("pinion.bridge=--report-every,20000",
                                                "pinion.bridge=--fast,--report-every,20000")
        check("--fast" in vm["bootargs"], f"no --fast in the bootargs: {vm['bootargs']}")

    path = system_variant(work, "dvm-uio-fast-echo", UIO_SYSTEM, fast)
    s, console = run(build, work, "dvm-uio-fast-echo", str(path), TWO_CORES, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"])
    check_echoes(s, PACKETS)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    check("net-bridge: receive: ring v2" in console and
          "transmit: sendmmsg per batch, past the queueing discipline" in console,
          "the bridge did not say it took the ring, sendmmsg and the qdisc bypass")
    vm, ins = guest_split(s)
    check(ins["guest_kernel"] > 0 and ins["user"] > 0, f"guest split: {ins}")
    check(vm["exits"].get("doorbell", 0) > 0 and vm["exits"].get("virqs", 0) > 0,
          f"no doorbells or virtual interrupts in the measured phase: {vm['exits']}")
    # Frames come in through the ring (tpacket_rcv), never through recvfrom,
    # and go out through sendmmsg straight to the device (__dev_direct_xmit).
    check_profile(work, "dvm-uio-fast-echo", s,
                  ["virtnet_", "tpacket_rcv", "__sys_sendmmsg", "__dev_direct_xmit", "uio_"],
                  ["packet_recvmsg", "__sys_recvfrom", "packet_rcv", "__sys_sendto"])
    counts = json.loads(re.findall(r"net-bridge: (\{.*\})\s*$", console, re.MULTILINE)[-1])
    check(counts["rx_frames"] >= PACKETS - 100 and counts["tx_frames"] >= PACKETS - 100,
          f"the bridge's counts: {counts}")
    check(0 < counts["tx_batches"] < counts["tx_frames"],
          f"{counts['tx_batches']} batches for {counts['tx_frames']} frames: not batching")
    bad = {k: counts[k] for k in ("rx_dropped_no_buffer", "rx_dropped_too_long", "bad_free_desc",
                                  "bad_tx_desc", "tx_send_errors", "rx_receive_errors",
                                  "corrupt_rings") if counts[k]}
    check(not bad, f"the bridge dropped or failed: {bad}")
    return (f"{PACKETS} packets echoed through the driver VM's user-space bridge with --fast, "
            f"{counts['tx_frames'] / counts['tx_batches']:.1f} frames per sendmmsg, "
            f"{s['per_io']['all_instructions']:,.0f} instructions per packet")


def linux_baseline(build, work, mode, packets=2000):
    out = Path(work) / f"linux-{mode}"
    cmd = [sys.executable, str(REPO / "experiments/net/linux-baseline"), "--mode", mode,
           "--packets", str(packets), "--quiet", "--build-dir", str(build), "--out", str(out)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    s = json.loads((out / "summary.json").read_text())
    check(done.returncode == 0 and s.get("status") == "ok",
          f"the {mode} baseline failed: {s.get('reason', done.stderr.strip())}")
    check_echoes(s, packets)
    per = s["per_io"]
    check(per["ios"] == packets, f"per_io over {per['ios']} packets")
    counts = s.get("echo_counts") or {}
    check(counts.get("echoed") == packets, f"the echo reported {counts}, not {packets} echoes")
    if mode == "kernel":
        check(per["guest_kernel"] > 1000 and per["guest_user"] * 1000 < per["guest_kernel"],
              f"Linux's kernel alone should be counted: {per}")
    else:
        check(per["guest_kernel"] > 1000 and per["guest_user"] > 10,
              f"Linux's kernel and the echo program should both be counted: {per}")
    return (f"{packets} packets echoed by Linux natively ({s['answered_by']}), "
            f"{per['all_instructions']:,.0f} instructions per packet")


def all_tests(build, work):
    return {
        "dvm-echo": lambda: kernel_bridge_echo(build, work, "dvm-echo", TWO_CORES),
        "dvm-echo-1core": lambda: kernel_bridge_echo(build, work, "dvm-echo-1core", ONE_CORE),
        "dvm-2vcpu-echo": lambda: kernel_bridge_echo(build, work, "dvm-2vcpu-echo",
                                                     THREE_CORES_TWO_VCPUS, TWO_VCPU_SYSTEM),
        "dvm-polling": lambda: dvm_polling(build, work),
        "dvm-zero-copy": lambda: dvm_zero_copy(build, work),
        "dvm-bad-descriptors": lambda: dvm_bad_descriptors(build, work),
        "dvm-killed": lambda: dvm_killed(
            build, work, "dvm-killed", KERNEL_SYSTEM,
            f"pinion_net_bridge.die_after={KILL_AFTER}",
            f"pinion-net-bridge: dying after {KILL_AFTER} frames received"),
        "dvm-uio-echo": lambda: dvm_uio_echo(build, work),
        "dvm-uio-fast-echo": lambda: dvm_uio_fast_echo(build, work),
        "dvm-uio-killed": lambda: dvm_killed(
            build, work, "dvm-uio-killed", UIO_SYSTEM, f"pinion.bridge=--die-after,{KILL_AFTER}",
            "net-bridge exited with status 3"),
        "linux-baseline": lambda: linux_baseline(build, work, "udp"),
        "linux-l2": lambda: linux_baseline(build, work, "l2"),
        "linux-kernel": lambda: linux_baseline(build, work, "kernel"),
    }


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
