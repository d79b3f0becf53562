#!/usr/bin/env python3
"""
End-to-end tests of virtual machines on the kernel: a Linux guest (the
kernel and test initramfs that driver-vms/ builds into BUILD_DIR/guests)
booted beside native PDs through experiments/run, checked by what the
guest and the kernel printed and what the plugin counted.

usage: check_vm.py BUILD_DIR WORK_DIR TEST
tests: vm-boot vm-smp vm-panic vm-stray
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_kernel import check, run, run_named_test, system_variant  # noqa: E402

STOPPED = r'^pinion: VM "guest" stopped'
PINGS = 10  # uio-ping's default round trips


def guest_lines(console):
    return [line[len("guest: "):] for line in console.splitlines() if line.startswith("guest: ")]


def natives_ran_on(s, console):
    """ping and pong exchanged notifications throughout and nothing native faulted."""
    check(not s["faults"], f"PDs faulted: {s['faults']}")
    for pd in ("ping", "pong"):
        check(s["pd_states"].get(pd) in ("runnable", "waiting"),
              f"{pd} is {s['pd_states'].get(pd)} at the end")
        got = s["pd_counters"][pd].get("notifications", 0)
        check(got > 1000, f"{pd} saw only {got} notifications while the guest ran")
    check("'q' typed at the console" in (s.get("ended") or ""),
          f"the run did not end from outside as expected: {s.get('ended')}")


def vm_section(s):
    vm = s["total"]["vms"].get("guest")
    check(vm is not None, f"no report of VM guest: {list(s['total']['vms'])}")
    return vm


def vm_boot(build, work):
    s, console = run(build, work, "vm-boot", "systems/vm-boot.json",
                     "systems/placements/vm-boot-2core.json", stop_on=STOPPED, timeout=400)
    lines = guest_lines(console)
    check("pinion-guest: init started on 1 cpus" in lines,
          "the guest did not reach its init (no 'init started on 1 cpus')")
    check(f"uio-ping: {PINGS} round trips ok" in lines,
          f"no '{PINGS} round trips ok' from uio-ping: {[x for x in lines if 'uio' in x]}")
    state = s["vm_states"]["guest"]
    check(state["stopped"] and state["why"] == "powered off (PSCI SYSTEM_OFF)",
          f"the VM did not power off: {state}")
    echoes = s["pd_counters"]["echo"].get("echoes")
    check(echoes == PINGS, f"echo answered {echoes} doorbells, expected {PINGS}")
    natives_ran_on(s, console)
    vm = vm_section(s)
    vcpu = vm["vcpus"][0]
    check(vcpu["core"] == 1, f"vCPU 0 ran on core {vcpu['core']}, placed on 1")
    check(vcpu["instructions"]["total"] > 10_000_000,
          f"only {vcpu['instructions']['total']} guest instructions counted for a Linux boot")
    # Linux's kernel runs in the upper half, its init and uio-ping in the lower;
    # "kernel" is pinion's kernel working for the vCPU (its exits).
    ins = vcpu["instructions"]
    check(ins["guest_kernel"] > ins["user"] > 100_000 and ins["kernel"] > 0,
          f"guest kernel/user split: {ins}")
    exits = vm["exits"]
    check(exits.get("doorbell") == PINGS, f"{exits.get('doorbell')} doorbell exits, expected {PINGS}")
    # Whether the guest ever idles (a WFI exit) depends on how fast the echo answers; not checked.
    check(exits.get("psci", 0) >= 1 and exits.get("virqs", 0) > PINGS,
          f"expected PSCI calls and more than {PINGS} virtual interrupts: {exits}")
    check(s["total"]["cores"][0]["instructions"]["total"] > 0, "nothing counted on core 0")
    return (f"guest booted on core 1 in {vcpu['instructions']['total']} instructions, "
            f"{PINGS} doorbell round trips, {sum(v for k, v in exits.items() if k != 'virqs')} exits")


def vm_smp(build, work):
    s, console = run(build, work, "vm-smp", "systems/vm-smp.json",
                     "systems/placements/vm-smp-2core.json", timeout=400)
    lines = guest_lines(console)
    check("pinion-guest: init started on 2 cpus" in lines,
          "the guest did not report 2 CPUs online at init")
    check(any("Brought up 1 node, 2 CPUs" in x for x in lines), "Linux did not bring up vCPU 1")
    check(s["vm_states"]["guest"]["why"] == "powered off (PSCI SYSTEM_OFF)",
          f"the VM did not power off: {s['vm_states']['guest']}")
    check("every core idle" in (s.get("ended") or ""), f"run ended: {s.get('ended')}")
    vm = vm_section(s)
    for index, vcpu in enumerate(vm["vcpus"]):
        check(vcpu["core"] == index, f"vCPU {index} on core {vcpu['core']}")
        check(vcpu["instructions"]["total"] > 100_000,
              f"vCPU {index} ran only {vcpu['instructions']['total']} instructions")
    check(vm["exits"].get("sysreg_sgi", 0) > 0, f"no SGIs between the vCPUs: {vm['exits']}")
    check(vm["exits"].get("psci", 0) >= 2, "no PSCI CPU_ON")
    return "2 vCPUs online on cores 0 and 1, powered off"


def vm_panic(build, work):
    s, console = run(build, work, "vm-panic", "systems/vm-panic.json",
                     "systems/placements/vm-panic-2core.json", stop_on=STOPPED, timeout=400)
    lines = guest_lines(console)
    check("pinion-guest: panicking on purpose" in lines, "the guest's init did not reach its panic")
    check(any("Kernel panic" in x for x in lines), "Linux did not panic")
    why = s["vm_states"]["guest"]["why"] or ""
    check("SYSTEM_RESET" in why, f"the VM's stop was not reported as a reset: {why!r}")
    check(s["vm_states"]["guest"]["vcpus"] == ["stopped"], f"vCPU: {s['vm_states']['guest']}")
    natives_ran_on(s, console)
    return f"guest panicked and was stopped ({why}); ping and pong ran on"


def vm_stray(build, work):
    # vm-panic's system with the guest's init told to write outside the VM's memory.
    path = system_variant(work, "vm-stray", "systems/vm-panic.json",
                          lambda system: system["vms"][0].update(bootargs="pinion.mode=stray"))
    s, console = run(build, work, "vm-stray", str(path), "systems/placements/vm-panic-2core.json",
                     stop_on=STOPPED, timeout=400)
    why = s["vm_states"]["guest"]["why"] or ""
    check("write to an address it has no access to" in why, f"the stray write: {why!r}")
    check('vCPU 0: write to an address it has no access to (address 0x20000000' in console,
          "the kernel did not name the address of the stray write")
    natives_ran_on(s, console)
    return "a guest's write outside its memory stopped only the guest"


def all_tests(build, work):
    return {
        "vm-boot": lambda: vm_boot(build, work),
        "vm-smp": lambda: vm_smp(build, work),
        "vm-panic": lambda: vm_panic(build, work),
        "vm-stray": lambda: vm_stray(build, work),
    }


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
