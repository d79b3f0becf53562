#!/usr/bin/env python3
"""
End-to-end tests of the network driver VM: the UDP echo with Linux's
virtio-net driver in a driver VM instead of pinion's own driver, through
experiments/run and pinion-loadgen. systems/net-echo-dvm.json bridges it
to pinion's queues with the in-kernel bridge (driver-vms/kernel/), and
systems/net-echo-dvm-uio.json with the user-space bridge over UIO (the
LionsOS way): each echoes, each is killed mid-run; the in-kernel bridge is
also fed corrupt descriptors by both multiplexers.

The native-Linux baselines (experiments/net/linux-baseline) are checked
here too: the same guest kernel booted directly, echoing in user space
over UDP sockets, at layer 2 over a packet socket, and in the kernel.

usage: check_dvm.py BUILD_DIR WORK_DIR TEST
tests: dvm-echo dvm-echo-1core dvm-bad-descriptors dvm-killed dvm-uio-echo
       dvm-uio-killed linux-baseline linux-l2 linux-kernel
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


def check_profile(work, name, s, must_have):
    """The guest kernel counted per function too (docs/accounting.md), covering all of it."""
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


def kernel_bridge_echo(build, work, name, placement):
    s, console = run(build, work, name, KERNEL_SYSTEM, placement, timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"])
    check_echoes(s, PACKETS)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    check("pinion-net-bridge: up: eth0" in console, "the in-kernel bridge did not come up")
    vm, ins = guest_split(s)
    # No user space on a packet's way: init sleeps, the bridge is in the kernel.
    check(ins["guest_kernel"] > 0 and ins["user"] * 1000 < ins["guest_kernel"],
          f"guest split: {ins}")
    check(vm["exits"].get("doorbell", 0) > 0 and vm["exits"].get("virqs", 0) > 0,
          f"no doorbells or virtual interrupts in the measured phase: {vm['exits']}")
    check_profile(work, name, s, ["virtnet_", "net_bridge_receive", "bridge_rx_handler"])
    return (f"{PACKETS} packets echoed through the driver VM's in-kernel bridge to both clients, "
            f"{s['per_io']['all_instructions']:,.0f} instructions per packet")


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
        "dvm-bad-descriptors": lambda: dvm_bad_descriptors(build, work),
        "dvm-killed": lambda: dvm_killed(
            build, work, "dvm-killed", KERNEL_SYSTEM,
            f"pinion_net_bridge.die_after={KILL_AFTER}",
            f"pinion-net-bridge: dying after {KILL_AFTER} frames received"),
        "dvm-uio-echo": lambda: dvm_uio_echo(build, work),
        "dvm-uio-killed": lambda: dvm_killed(
            build, work, "dvm-uio-killed", UIO_SYSTEM, f"pinion.bridge=--die-after,{KILL_AFTER}",
            "net-bridge exited with status 3"),
        "linux-baseline": lambda: linux_baseline(build, work, "udp"),
        "linux-l2": lambda: linux_baseline(build, work, "l2"),
        "linux-kernel": lambda: linux_baseline(build, work, "kernel"),
    }


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
