"""A measured cost profile: the qemu-virt profile with one system's work per PD and vCPU
taken from a run (boards/qemu-virt-aarch64/derive-profile, experiments/sweep).

From the run's measurement phase (phase 1), per packet echoed:

- each component PD's work: the user instructions it retired (its per-wake-up cost is
  inside them, so `activation` is 0), and one device interrupt per packet when nothing
  batches for a PD that takes device interrupts;
- each vCPU's work: its guest kernel and guest user instructions; its VM exits other than
  doorbells (a doorbell is the model's notification out of the VM) as `exits`, split
  evenly over the VM's vCPUs; and the kernel's cost per exit (`events.vm_exit`): the
  kernel instructions retired for the vCPUs divided by all their exits, injections
  included (`events.vm_inject` 0);
- the batching window W of the model's law n(U) = max(1/W, (1 - U)^beta): at the
  run's own throughput limit (U = 1 on its busiest core) n = 1/W, so W is what makes
  the notifications and device interrupts per packet the model predicts for the run
  equal the ones measured: (sum of the channels' rates + interrupts) / measured.

The channels' rates and the flows come from the base profile's section for the system
(`systems.NAME.channels` and `.flows`); the kernel's per-event costs stay as measured by
the micro-benchmarks. The same as `place --measured S --ios N --phase 1` for native PDs
(which reads user instructions too), plus vCPUs and W, which --measured does not give.
"""

import copy


class ProfileError(Exception):
    pass


def _events(section):
    return section.get("events") or {}


CLOSED_LOOP_SHAPE = 1000


def derive(base, system_doc, summary, summary_path, phase="1", fit_window=True,
           closed_loop=False):
    """The base profile (a dict) with systems.NAME.work from `summary` (a dict).

    closed_loop: make the batching law's shape so steep that every busy core batches as
    at its limit, n = 1/W whatever its utilisation (in a closed loop with a full window the
    batching follows the window, not each core's load; docs/sweep.md)."""
    name = system_doc["name"]
    if summary.get("status") != "ok":
        raise ProfileError(f"{summary_path}: the run failed ({summary.get('reason', '?')}); "
                           "a profile needs a complete run")
    if summary.get("system") != name:
        raise ProfileError(f"{summary_path}: a run of {summary.get('system')!r}, not {name!r}")
    per = summary.get("per_io")
    section = summary.get("phases", {}).get(str(phase))
    if not per or not section:
        raise ProfileError(f"{summary_path}: no per-packet figures of phase {phase} "
                           "(was it run with --packets?)")
    ios = per["ios"]
    packets = f"{ios} packets (phase {phase})"
    where = f"measured: {summary_path}"
    profile = copy.deepcopy(base)
    system = copy.deepcopy(profile.get("systems", {}).get(name, {}))
    work = {}
    for component in system_doc.get("components", []):
        pd = component["name"]
        counts = section["pds"].get(pd, {}).get("instructions")
        if not counts:
            raise ProfileError(f"{summary_path}: no instruction counts for PD {pd}")
        entry = {"work": round(counts["user"] / ios, 2), "activation": 0}
        if component.get("irqs"):
            entry["irqs"] = 1
        entry["source"] = f"{where}: {counts['user']} user instructions / {packets}"
        work[pd] = entry

    vm_kernel = vm_exits = 0
    for vm in system_doc.get("vms", []):
        measured = section.get("vms", {}).get(vm["name"])
        if not measured:
            raise ProfileError(f"{summary_path}: no counts for VM {vm['name']}")
        exits = {k: v for k, v in measured.get("exits", {}).items() if k != "virqs"}
        n_vcpus = len(measured["vcpus"])
        other_exits = sum(v for k, v in exits.items() if k != "doorbell")
        vm_exits += sum(exits.values())
        for vcpu in measured["vcpus"]:
            counts = vcpu["instructions"]
            guest = counts.get("user", 0) + counts.get("guest_kernel", 0)
            vm_kernel += counts.get("kernel", 0)
            entry = {"work": round(guest / ios, 2), "activation": 0,
                     "exits": round(other_exits / n_vcpus / ios, 4)}
            if vm.get("devices") and vcpu["vcpu"] == 0:
                entry["irqs"] = 1
            entry["source"] = (f"{where}: {counts.get('guest_kernel', 0)} guest kernel + "
                               f"{counts.get('user', 0)} guest user instructions / {packets}; "
                               f"exits: {other_exits} other than doorbells / {n_vcpus} "
                               f"vCPU(s) / {ios}")
            work[f"{vm['name']}/vcpu{vcpu['vcpu']}"] = entry
    if vm_exits:
        events = profile.setdefault("events", {})
        events["vm_exit"] = {"value": round(vm_kernel / vm_exits, 1),
                             "source": f"{where}: {vm_kernel} kernel instructions for the "
                             f"vCPUs / {vm_exits} VM exits, phase {phase} (everything the "
                             "kernel does for a VM, per exit)"}
        events["vm_inject"] = {"value": 0, "source": "inside vm_exit (measured per exit)"}

    system["work"] = work
    system.setdefault("description", f"systems/{name}.json")
    profile.setdefault("systems", {})[name] = system

    if fit_window:
        fit = fit_batching_window(profile, system_doc, system, section, ios)
        if fit is not None:
            window, rates, measured = fit
            profile["batching"]["window"] = {
                "value": round(window, 2),
                "source": f"{where}: fitted, W = (channel rates + device interrupts per "
                f"packet when nothing batches, {rates:.2f}) / (notifications + device "
                f"interrupts per packet measured, {measured:.4f}): the model at the "
                "run's throughput limit predicts the run's own events"}
    if closed_loop:
        profile["batching"]["shape"] = {
            "value": CLOSED_LOOP_SHAPE,
            "source": "closed loop (derive-profile --closed-loop): (1 - U)^1000 is 0 for any "
            "busy core, so every core batches as at its limit, n = 1/W: in a closed loop with "
            "a full window batching follows the window, not each core's utilisation"}
    io = profile.setdefault("io", {})
    io["unit"] = "packet"
    profile["profile"] = f"{base.get('profile', 'profile')}+{name}-measured"
    profile["description"] = (
        f"{base.get('description', '')} Derived from a measured run of {name} "
        f"({summary_path}; {summary.get('command', '')}): per-PD and per-vCPU work, "
        "the batching window and VM exit costs (boards/qemu-virt-aarch64/derive-profile).")
    profile["_derived_from"] = {"summary": str(summary_path), "command": summary.get("command"),
                                "packets": ios, "window": summary.get("load", {}).get("window")}
    return profile


def fit_batching_window(profile, system_doc, system, section, ios):
    """(W, rates per packet, measured events per packet), or None when nothing was measured."""
    default = profile.get("defaults", {}).get("channel", {"forward": 1, "backward": 0})
    rates = 0.0
    channels = system.get("channels", {})
    for channel in system_doc.get("channels", []):
        rate = dict(default)
        rate.update(channels.get(channel["name"], {}))
        rates += rate.get("forward", 1) + rate.get("backward", 0)
    rates += sum(entry.get("irqs", 0) for entry in system["work"].values())
    events = section.get("events", {})
    measured = (events.get("notify_same_core", 0) + events.get("notify_cross_core", 0)
                + events.get("device_irqs", 0)) / ios
    if measured <= 0 or rates <= 0:
        return None
    return max(1.0, rates / measured), rates, measured
