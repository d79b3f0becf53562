"""A readable table of a run's summary: where the instructions went."""


def _fmt(n):
    return "-" if n is None else f"{n:,}"


def render(summary, phase=None):
    """Per PD and per core: user, kernel and total instructions, with the main events."""
    section = summary["total"] if phase is None else summary["phases"][str(phase)]
    title = "whole run" if phase is None else f"phase {phase}"
    lines = [f"{summary['system']} on {summary['cores']} core(s), {title}: "
             f"retired instructions ({summary.get('plugin_mode')} count)", ""]
    lines.append(f"{'PD':<18}{'core':>5}{'in the PD':>16}{'kernel for it':>16}{'total':>16}")
    for name, pd in section["pds"].items():
        ins = pd["instructions"] or {}
        lines.append(f"{name:<18}{pd['core']:>5}{_fmt(ins.get('user')):>16}"
                     f"{_fmt(ins.get('kernel')):>16}{_fmt(ins.get('total')):>16}")
    lines.append("")
    lines.append(f"{'core':<6}{'total':>16}{'kernel idle':>16}{'notify same':>13}"
                 f"{'notify cross':>14}{'SGIs sent':>11}{'wake-ups':>10}")
    for core in section["cores"]:
        ev = core["events"]
        lines.append(f"{core['core']:<6}{_fmt((core['instructions'] or {}).get('total')):>16}"
                     f"{_fmt((core['kernel_idle'] or {}).get('total')):>16}"
                     f"{ev.get('notify_same_core', 0):>13,}{ev.get('notify_cross_core', 0):>14,}"
                     f"{ev.get('sgi_sent', 0):>11,}{ev.get('wakeups', 0):>10,}")
    if summary.get("faults"):
        lines.append("")
        for fault in summary["faults"]:
            lines.append(f"fault: {fault['pd']} on core {fault['core']}: {fault['what']}")
    return "\n".join(lines)


def render_per_io(summary, unit="packet"):
    """Phase 1 per I/O: where the instructions of one packet (or request) went."""
    per = summary.get("per_io")
    if not per:
        return ""
    load = summary.get("load", {})
    lines = [f"{summary['system']} on {summary['cores']} core(s): instructions per {unit}, "
             f"{per['ios']:,} {unit}s echoed (window {load.get('window', '?')}, "
             f"{load.get('size', '?')}-byte payload)", ""]
    lines.append(f"{'PD':<22}{'core':>5}{'in the PD':>12}{'kernel for it':>15}{'total':>10}")
    for name, ins in per["pds"].items():
        core = summary["total"]["pds"][name]["core"]
        lines.append(f"{name:<22}{core:>5}{ins['user']:>12,.0f}{ins['kernel']:>15,.0f}"
                     f"{ins['total']:>10,.0f}")
    for name, vm in per.get("vms", {}).items():
        lines.append("")
        lines.append(f"{'vCPU':<22}{'core':>5}{'guest kernel':>14}{'guest user':>12}"
                     f"{'kernel for it':>15}{'total':>10}")
        for vcpu in vm["vcpus"]:
            ins = vcpu["instructions"]
            lines.append(f"{name + '/' + str(vcpu['vcpu']):<22}{vcpu['core']:>5}"
                         f"{ins['guest_kernel']:>14,.0f}{ins['user']:>12,.0f}"
                         f"{ins['kernel']:>15,.0f}{ins['total']:>10,.0f}")
        exits = ", ".join(f"{k} {v:.2f}" for k, v in sorted(vm["exits"].items()) if v and k != "virqs")
        lines.append(f"{name}: per {unit}, virtual interrupts {vm['exits'].get('virqs', 0):.2f}; "
                     f"exits: {exits or 'none'}")
    lines.append("")
    lines.append(f"{'core':<6}{'all':>10}{'idle kernel':>13}{'notify same':>13}"
                 f"{'notify cross':>14}{'SGIs':>8}{'IRQs':>8}{'wake-ups':>10}")
    for core in per["cores"]:
        ev = core["events"]
        lines.append(f"{core['core']:<6}{core['instructions']['total']:>10,.0f}"
                     f"{core['kernel_idle']['total']:>13,.0f}"
                     f"{ev.get('notify_same_core', 0):>13.2f}{ev.get('notify_cross_core', 0):>14.2f}"
                     f"{ev.get('sgi_sent', 0):>8.2f}{ev.get('device_irqs', 0):>8.2f}"
                     f"{ev.get('wakeups', 0):>10.2f}")
    lines.append("")
    lines.append(f"all instructions per {unit} (every PD, the kernel, every core): "
                 f"{per['all_instructions']:,.0f}")
    return "\n".join(lines)
