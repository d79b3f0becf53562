"""summary.json: per-PD and per-core instructions, kernel instructions, events."""

from .counts import Counts

OWNER_KERNEL = 0


def _instructions(counts, **where):
    return counts.select(**where) if counts else None


def build(manifest, report, counts, extra):
    """Joins what the kernel printed with the plugin's counts, by PD owner id."""
    # A VM's own PD runs nothing (its vCPUs do, reported under "vms").
    pds_by_owner = {pd["owner"]: pd for pd in manifest["pds"] if pd.get("program", "") is not None}
    n_cores = manifest["cores"]
    phases = sorted({p for (_, p) in report.core_events} | set(counts.phases() if counts else []))

    def section(phase):
        pds = {}
        for owner, pd in sorted(pds_by_owner.items()):
            pds[pd["name"]] = {"core": pd["core"],
                               "instructions": _instructions(counts, phase=phase, owner=owner)}
        cores = []
        for core in range(n_cores):
            entry = {"core": core,
                     "instructions": _instructions(counts, phase=phase, core=core),
                     "kernel_idle": _instructions(counts, phase=phase, core=core,
                                                  owner=OWNER_KERNEL)}
            if phase is None:
                entry["events"] = _sum_events(report, core=core)
            else:
                entry["events"] = report.core_events.get((core, phase), {})
            cores.append(entry)
        vms = {}
        for name, vm in report.vms.items():
            vcpus = [{"vcpu": v["vcpu"], "core": v["core"],
                      "instructions": _instructions(counts, phase=phase, owner=v["owner"])}
                     for v in vm["vcpus"]]
            exits = {}
            for entry in vm.get("phases", []):
                if phase is None or entry["phase"] == phase:
                    for reason, n in entry["exits"].items():
                        exits[reason] = exits.get(reason, 0) + n
                    exits["virqs"] = exits.get("virqs", 0) + entry["virqs"]
            vms[name] = {"vcpus": vcpus, "exits": exits}
        kernel = None
        if counts:
            kernel = sum(counts.select(phase=phase, core=c)["kernel"] for c in range(n_cores))
        return {"pds": pds, "vms": vms, "cores": cores, "kernel_instructions": kernel,
                "events": _sum_events(report, phase=phase)}

    summary = {
        "system": manifest["system"],
        "cores": n_cores,
        "status": "ok" if report.ended else "failed",
        "ended": report.ended,
        "faults": report.faults,
        "plugin_mode": counts.mode if counts else None,
        "pd_states": {name: pd.get("state") for name, pd in report.pds.items()},
        "pd_counters": {name: pd.get("counters", {}) for name, pd in report.pds.items()},
        "owners": {str(owner): pd["name"] for owner, pd in pds_by_owner.items()},
        "vm_states": {name: {"stopped": vm["stopped"], "why": report.vm_stops.get(name),
                             "vcpus": [v["state"] for v in vm["vcpus"]],
                             "ram_bytes": vm["ram_bytes"], "mmio": vm.get("mmio", {})}
                      for name, vm in report.vms.items()},
    }
    summary.update(extra)
    summary["total"] = section(None)
    summary["phases"] = {str(p): section(p) for p in phases}
    return summary


def per_io(summary, ios, phase):
    """Instructions and events of `phase` per I/O (a packet, a request)."""
    section = summary["phases"].get(str(phase))
    if not section or ios == 0:
        return None

    def div(d):
        return {k: round(v / ios, 2) for k, v in d.items()} if d else d

    vms = {name: {"vcpus": [{"vcpu": v["vcpu"], "core": v["core"],
                             "instructions": div(v["instructions"])} for v in vm["vcpus"]],
                  "exits": div(vm["exits"])}
           for name, vm in section.get("vms", {}).items()}

    return {
        "ios": ios,
        "phase": phase,
        "pds": {name: div(pd["instructions"]) for name, pd in section["pds"].items()},
        "vms": vms,
        "cores": [{"core": c["core"], "instructions": div(c["instructions"]),
                   "kernel_idle": div(c["kernel_idle"]), "events": div(c["events"])}
                  for c in section["cores"]],
        "kernel_instructions": round(section["kernel_instructions"] / ios, 2)
        if section["kernel_instructions"] is not None else None,
        "all_instructions": round(sum(c["instructions"]["total"] for c in section["cores"]) / ios,
                                  2) if section["cores"] and section["cores"][0]["instructions"]
        else None,
        "events": div(section["events"]),
    }


def _sum_events(report, core=None, phase=None):
    total = {}
    for (c, p), events in report.core_events.items():
        if (core is None or c == core) and (phase is None or p == phase):
            for name, value in events.items():
                total[name] = total.get(name, 0) + value
    return total


__all__ = ["build", "Counts"]
