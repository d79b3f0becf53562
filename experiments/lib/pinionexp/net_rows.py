"""One echoed packet's cost as a row: instructions per core and in total,
split into native PDs, pinion's kernel, the guest's kernel and user space;
VM exits by reason, virtual interrupts, bytes copied, notifications and
SGIs. From a pinion run (experiments/run) or a native-Linux run
(experiments/net/linux-baseline). Shared by experiments/net/compare and
experiments/net/optimise (docs/net-dvm.md, docs/net-optimise.md)."""

import json
import re

# The user-space bridge's counts, or the in-kernel bridge's (pinion-net-bridge: ...).
BRIDGE_LINE = re.compile(r"net-bridge: (\{.*\})\s*$", re.MULTILINE)


def last_json(pattern, text):
    found = pattern.findall(text)
    return json.loads(found[-1]) if found else None


def pinion_row(summary, console):
    per_io = summary["per_io"]
    packets = per_io["ios"]
    phase = summary["phases"]["1"]
    native = sum(pd["instructions"]["user"] for pd in phase["pds"].values()
                 if pd["instructions"])
    kernel = sum(c["instructions"]["kernel"] for c in phase["cores"])
    guest_kernel = guest_user = 0
    exits, virqs = {}, 0
    for vm in phase.get("vms", {}).values():
        for vcpu in vm["vcpus"]:
            guest_kernel += vcpu["instructions"]["guest_kernel"]
            guest_user += vcpu["instructions"]["user"]
        for reason, n in vm["exits"].items():
            if reason == "virqs":
                virqs += n
            else:
                exits[reason] = exits.get(reason, 0) + n
    events = phase["events"]
    # The copiers' count covers the whole run (a few ARP frames besides the
    # packets); the bridge's last report gives its bytes per frame, two
    # frames (one in, one out) per echoed packet.
    copied = sum(c.get("copied_bytes", 0) for c in summary["pd_counters"].values()) / packets
    bridge = last_json(BRIDGE_LINE, console)
    if bridge and bridge["rx_frames"] + bridge["tx_frames"]:
        # With a receive ring Linux copies each frame into the ring and the bridge
        # copies it out: the bridge counts the second copy only.
        rx_copies = 2 if "net-bridge: receive: ring" in console else 1
        copied += 2 * (rx_copies * bridge["rx_bytes"] + bridge["tx_bytes"]) / (
            bridge["rx_frames"] + bridge["tx_frames"])
    return {
        "packets": packets,
        "per_core": [round(c["instructions"]["total"] / packets) for c in phase["cores"]],
        "total": round(sum(c["instructions"]["total"] for c in phase["cores"]) / packets),
        "native_pds": round(native / packets), "pinion_kernel": round(kernel / packets),
        "guest_kernel": round(guest_kernel / packets), "guest_user": round(guest_user / packets),
        "exits": {k: round(v / packets, 3) for k, v in exits.items()},
        "exits_total": round(sum(exits.values()) / packets, 3),
        "virqs": round(virqs / packets, 3),
        "bytes_copied": round(copied),
        "notifications": round((events.get("notify_same_core", 0) +
                                events.get("notify_cross_core", 0)) / packets, 3),
        "sgis": round(events.get("sgi_sent", 0) / packets, 3),
    }


def linux_row(summary, console):
    per_io = summary["per_io"]
    packets = per_io["ios"]
    echo = summary.get("echo_counts")
    return {
        "packets": packets,
        "per_core": [round(c["total"]) for c in per_io["cores"]],
        "total": round(per_io["all_instructions"]),
        "native_pds": 0, "pinion_kernel": 0,
        "guest_kernel": round(per_io["guest_kernel"]), "guest_user": round(per_io["guest_user"]),
        "exits": {}, "exits_total": 0, "virqs": 0,
        "bytes_copied": round(echo["bytes_copied"] / packets) if echo and "bytes_copied" in echo
        else "",
        "notifications": 0, "sgis": 0,
    }


# Guest-kernel functions that only wait: the in-kernel bridge's polling loop
# (driver-vms/kernel/net_bridge_poll.c) spins in this one alone.
WAITING_FUNCTIONS = {"pinion_bridge_poll_idle"}


def waiting_per_io(run_dir, ios, phase=1):
    """Instructions per I/O a polling guest spent waiting (0 without a profile or polling)."""
    try:
        with open(run_dir / "counts.json") as f:
            functions = json.load(f).get("functions") or {}
    except FileNotFoundError:
        return 0
    for entry in functions.get("phases", []):
        if entry["phase"] == phase:
            return sum(n for name, n in entry["counts"] if name in WAITING_FUNCTIONS) / ios
    return 0


def row_of(run_dir):
    """
    The row of one run directory (either kind), from its summary.json, console.log
    and counts.json. "waiting" is what a polling vCPU spun, and "useful_per_core" the
    cores without it: the plugin counts functions for all vCPUs together, so the
    waiting is taken off the core it dominates (the polling vCPU's own). The guest
    kernel's figure leaves it out too; "total" and "per_core" keep it.
    """
    with open(run_dir / "summary.json") as f:
        summary = json.load(f)
    console = (run_dir / "console.log").read_text(errors="replace")
    row = linux_row(summary, console) if "answered_by" in summary else pinion_row(summary, console)
    waiting = waiting_per_io(run_dir, row["packets"])
    useful = list(row["per_core"])
    if waiting:
        busiest = useful.index(max(useful))
        useful[busiest] = round(useful[busiest] - waiting)
    row["guest_kernel"] = round(row["guest_kernel"] - waiting)
    row.update({"waiting": round(waiting), "useful_per_core": useful,
                "useful_total": round(row["total"] - waiting),
                "bottleneck": max(row["per_core"]), "useful_bottleneck": max(useful)})
    return row
