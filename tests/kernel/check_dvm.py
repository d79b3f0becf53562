#!/usr/bin/env python3
"""
End-to-end tests of the network driver VM (systems/net-echo-dvm.json): the
UDP echo with Linux's virtio-net driver and the bridge program in a driver
VM instead of pinion's own driver, through experiments/run and
pinion-loadgen; and the same driver VM killed mid-run.

The native-Linux baseline (experiments/net/linux-baseline) is checked
here too: the same guest kernel booted directly, echoing in user space.

usage: check_dvm.py BUILD_DIR WORK_DIR TEST
tests: dvm-echo dvm-killed linux-baseline
"""

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_kernel import (REPO, check, check_echoes, run, run_named_test,  # noqa: E402
                          system_variant)

PACKETS = 10000
KILL_AFTER = 2000  # frames the bridge receives before it dies
NATIVE = ["net_virt_rx", "net_virt_tx", "client0_net_copier", "client1_net_copier", "client0",
          "client1"]
# Counters of the native PDs that count a peer's corrupt or misplaced descriptor.
CORRUPTION = ["bad_driver_desc", "bad_client_desc", "bad_virt_desc", "rx_bad_desc", "tx_bad_desc",
              "ring_errors"]


def natives_healthy(s):
    check(not s["faults"], f"PDs faulted: {s['faults']}")
    for pd in NATIVE:
        check(s["pd_states"].get(pd) in ("runnable", "waiting"),
              f"{pd} is {s['pd_states'].get(pd)} at the end")
        bad = {k: v for k, v in s["pd_counters"].get(pd, {}).items() if k in CORRUPTION and v}
        check(not bad, f"{pd} saw corrupt descriptors: {bad}")


def dvm_echo(build, work):
    s, console = run(build, work, "dvm-echo", "systems/net-echo-dvm.json",
                     "systems/placements/net-echo-dvm-2core.json", timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"])
    check_echoes(s, PACKETS)
    natives_healthy(s)
    check(not s["vm_states"]["net_vm"]["stopped"], "the driver VM stopped during the run")
    vm = s["phases"]["1"]["vms"]["net_vm"]
    ins = vm["vcpus"][0]["instructions"]
    check(ins["guest_kernel"] > 0 and ins["user"] > 0, f"guest split: {ins}")
    check(vm["exits"].get("doorbell", 0) > 0 and vm["exits"].get("virqs", 0) > 0,
          f"no doorbells or virtual interrupts in the measured phase: {vm['exits']}")
    return (f"{PACKETS} packets echoed through the driver VM to both clients, "
            f"{s['per_io']['all_instructions']:,.0f} instructions per packet")


def dvm_killed(build, work):
    # The driver VM's bridge dies after KILL_AFTER frames; its init then
    # exits, Linux panics and (panic=-1) asks for a reset: the kernel stops
    # the VM. The load generator sees the rest of the packets lost.
    def die_mid_run(system):
        system["vms"][0]["bootargs"] += f" panic=-1 pinion.bridge=--die-after,{KILL_AFTER}"

    path = system_variant(work, "dvm-killed", "systems/net-echo-dvm.json", die_mid_run)
    s, console = run(build, work, "dvm-killed", str(path),
                     "systems/placements/net-echo-dvm-2core.json", timeout=600,
                     extra=["--packets", str(PACKETS), "--window", "64"], expect_failure=True)
    check("not every packet came back" in s.get("reason", ""),
          f"the run should fail for the lost packets: {s.get('reason')}")
    check("net-bridge exited with status 3" in console, "the bridge did not die on purpose")
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


def linux_baseline(build, work):
    out = Path(work) / "linux-baseline"
    packets = 2000
    cmd = [sys.executable, str(REPO / "experiments/net/linux-baseline"), "--packets", str(packets),
           "--quiet", "--build-dir", str(build), "--out", str(out)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    s = json.loads((out / "summary.json").read_text())
    check(done.returncode == 0 and s.get("status") == "ok",
          f"the baseline failed: {s.get('reason', done.stderr.strip())}")
    check_echoes(s, packets)
    per = s["per_io"]
    check(per["ios"] == packets, f"per_io over {per['ios']} packets")
    check(per["guest_kernel"] > 1000 and per["guest_user"] > 10,
          f"Linux's kernel and udp-echo should both be counted: {per}")
    console = (out / "console.log").read_text(errors="replace")
    check(f'"echoed": {packets}' in console, "udp-echo did not report its echoes")
    return (f"{packets} packets echoed by Linux natively, "
            f"{per['all_instructions']:,.0f} instructions per packet")


def all_tests(build, work):
    return {"dvm-echo": lambda: dvm_echo(build, work),
            "dvm-killed": lambda: dvm_killed(build, work),
            "linux-baseline": lambda: linux_baseline(build, work)}


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
