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
