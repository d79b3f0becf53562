#!/usr/bin/env python3
"""
End-to-end tests of the block driver VM (docs/blk-dvm.md): systems/blk-bench-dvm.json on
pinion's kernel in QEMU through experiments/run, Linux's virtio-blk driver in the VM
blk_vm with pinion's in-kernel block bridge serving the same virtualiser, clients and
partitions as the native path, every disk image checked from the host after the run.
A random 70%-read run on one core, sequential 64 KiB requests (bios of 16 pages) on four
cores, the virtualiser sending the bridge malformed requests (each refused, the disk
intact), and the bridge dying mid-run (the VM stopped and reported, the virtualiser failing
its requests over to PN_BLK_EIO, the clients finishing with errors, native PDs unharmed);
and the LionsOS-style user-space bridge (systems/blk-bench-dvm-uio.json) serving and dying.

usage: check_blk_dvm.py BUILD_DIR WORK_DIR TEST
tests: blk-dvm-1core-rand-70r blk-dvm-4core-seq-64k blk-dvm-bad-requests blk-dvm-killed
       blk-dvm-uio-2core-rand-70r blk-dvm-uio-killed
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_blk import CLIENTS, check_client, check_disk, options  # noqa: E402
from check_kernel import Failure, check, run, run_named_test, system_variant  # noqa: E402

SYSTEM = "systems/blk-bench-dvm.json"
UIO_SYSTEM = "systems/blk-bench-dvm-uio.json"
VM = "blk_vm"
BRIDGE_UP = {SYSTEM: "pinion-blk-bridge: up: /dev/vda", UIO_SYSTEM: "blk-bridge: up: /dev/vda"}


def placement(cores):
    return f"systems/placements/blk-bench-dvm-{cores}core.json"


def check_virtualiser(s):
    virt = s["pd_counters"]["blk_virt"]
    for key in ("bad_driver_response", "client_ring_errors", "driver_ring_errors"):
        check(virt.get(key) == 0, f"blk_virt {key} = {virt.get(key)}")
    check(not s["faults"], f"faults: {s['faults']}")


def check_vm(s, console, system=SYSTEM):
    check(BRIDGE_UP[system] in console, "the block bridge did not come up")
    check(not s["vm_states"][VM]["stopped"], "the driver VM stopped during the run")
    vm = s["phases"]["1"]["vms"][VM]
    ins = vm["vcpus"][0]["instructions"]
    if system == SYSTEM:
        # No user space on a request's way: init sleeps, the bridge is in the kernel.
        check(ins["guest_kernel"] > 0 and ins["user"] * 1000 < ins["guest_kernel"],
              f"guest split: {ins}")
    else:
        # The bridge in user space: system calls, and the bounce buffers' copies.
        check(ins["guest_kernel"] > 0 and ins["user"] > 0, f"guest split: {ins}")
    check(vm["exits"].get("doorbell", 0) > 0 and vm["exits"].get("virqs", 0) > 0,
          f"no doorbells or virtual interrupts in the measured phase: {vm['exits']}")


def bench(build, work, name, cores, ios, size, depth, pattern, mix, system=SYSTEM):
    s, console = run(build, work, name, system, placement(cores), timeout=600,
                     extra=options(ios, size, depth, pattern, mix))
    for client in CLIENTS:
        check_client(s, client, ios, size, mix)
    check_virtualiser(s)
    check_vm(s, console, system)
    check_disk(s, CLIENTS if mix != "read" else ())
    per_io = s["per_io"]
    check(per_io["ios"] == 2 * ios, f"per_io over {per_io['ios']} requests")
    bridge = "user-space" if system == UIO_SYSTEM else "in-kernel"
    return (f"{2 * ios} requests of {size} bytes ({pattern}, {mix}, depth {depth}) through the "
            f"driver VM's {bridge} bridge on {cores} core(s), disk intact; "
            f"{per_io['all_instructions']:,.0f} instructions per request")


def bad_requests(build, work):
    ios = 1000
    s, console = run(build, work, "blk-dvm-bad-requests", SYSTEM, placement(2), timeout=600,
                     extra=options(ios, 4096, 16, "rand", "70r")
                     + ["--set", "blk_virt.inject_bad_every=25"])
    virt = s["pd_counters"]["blk_virt"]
    injected = virt["injected_bad"]
    check(injected >= 2 * ios // 25 - 2, f"blk_virt injected only {injected}")
    check(virt["injected_refused"] == injected,
          f"{injected} malformed requests sent to the bridge, {virt['injected_refused']} refused")
    for client in CLIENTS:
        check_client(s, client, ios, 4096, "70r")
    check_virtualiser(s)
    check_vm(s, console)
    check_disk(s, CLIENTS)
    return (f"{injected} malformed requests refused by the in-kernel bridge; every client "
            "request answered, the disk intact")


def killed(build, work, name, system, kill, died):
    # The bridge dies after 300 requests (the in-kernel one panics; the user-space one exits
    # and init kills the VM); Linux (panic=-1) asks for a reset and pinion stops the VM and
    # notifies its peer, the virtualiser, which answers every request the VM held, and every
    # later one, PN_BLK_EIO. Both clients finish their sequences counting the errors; the
    # run fails naming them and the stop; nothing native is harmed; the disk holds what was
    # written (a write that failed may or may not have reached it).
    def die_mid_run(description):
        vm = description["vms"][0]
        vm["bootargs"] = vm["bootargs"].replace("--report-idle-ms,200", kill) + " panic=-1"
        if kill not in vm["bootargs"]:
            vm["bootargs"] += f" {kill}"

    ios = 1000
    path = system_variant(work, name, system, die_mid_run)
    s, console = run(build, work, name, str(path), placement(2), timeout=600,
                     extra=options(ios, 4096, 16, "rand", "70r"), expect_failure=True)
    check(died in console, f"the bridge did not die on purpose (no \"{died}\")")
    if "--irq-wait,ring" in kill:
        check("notifications by a read in the ring" in console,
              "the user-space bridge did not read its notifications in the io_uring")
    state = s["vm_states"][VM]
    check(state["stopped"] and "SYSTEM_RESET" in (state["why"] or ""),
          f"the driver VM was not reported stopped: {state}")
    check(not s["faults"], f"native PDs faulted: {s['faults']}")
    reason = s.get("reason", "")
    check(f'VM "{VM}" stopped: ' in reason, f"the reason does not name the stopped VM: {reason}")
    errors = 0
    for client in CLIENTS:
        c = s["pd_counters"][client]
        check(c.get("done") == 1 and c.get("requests") == ios,
              f"{client}: done {c.get('done')}, {c.get('requests')} of {ios} requests")
        check(c.get("error_responses", 0) > 0, f"{client} saw no errors: {c}")
        check(f"{client}: {{'error_responses': {c['error_responses']}}}" in reason,
              f"the reason does not name {client}'s errors: {reason}")
        errors += c["error_responses"]
    virt = s["pd_counters"]["blk_virt"]
    check(virt.get("driver_dead") == 1 and virt.get("eio_answered") == errors
          and 0 < virt.get("eio_in_flight", 0) <= errors,
          f"blk_virt did not fail over as it should ({errors} errors at the clients): {virt}")
    for key in ("bad_driver_response", "client_ring_errors", "driver_ring_errors"):
        check(virt.get(key) == 0, f"blk_virt {key} = {virt.get(key)}")
    check_disk(s, CLIENTS)
    dropped = s["total"]["events"].get("notify_dropped", 0)
    return (f"the bridge died after 300 requests: the VM reported stopped ({state['why']}), "
            f"{virt['eio_in_flight']} requests it held and {errors - virt['eio_in_flight']} "
            f"later ones answered EIO, both clients done, native PDs unharmed, the disk as "
            f"written; {dropped} notifications to the VM dropped")


def all_tests(build, work):
    return {
        "blk-dvm-1core-rand-70r": lambda: bench(build, work, "blk-dvm-1core-rand-70r", 1, 1000,
                                                4096, 16, "rand", "70r"),
        "blk-dvm-4core-seq-64k": lambda: bench(build, work, "blk-dvm-4core-seq-64k", 4, 200,
                                               65536, 4, "seq", "70r"),
        "blk-dvm-bad-requests": lambda: bad_requests(build, work),
        "blk-dvm-killed": lambda: killed(build, work, "blk-dvm-killed", SYSTEM,
                                         "pinion_blk_bridge.die_after=300",
                                         "dying after 300 requests (die_after)"),
        "blk-dvm-uio-2core-rand-70r": lambda: bench(build, work, "blk-dvm-uio-2core-rand-70r", 2,
                                                    1000, 4096, 16, "rand", "70r", UIO_SYSTEM),
        # With the notifications read through the io_uring (--irq-wait ring), so that the
        # bridge's first form, kept for its ablation, is run end to end too.
        "blk-dvm-uio-killed": lambda: killed(build, work, "blk-dvm-uio-killed", UIO_SYSTEM,
                                             "--die-after,300,--irq-wait,ring",
                                             "requests (--die-after)"),
    }


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
