"""A readable table of a run's summary: where the instructions went.

The same tables show the combined summary of repeated runs (repeat.py,
`experiments/run --repeat N`): there every figure is an aggregate, written
"median [low–high]", and a column widens to fit it."""

from . import repeat


def _fmt(n, decimals=None):
    """A count with thousands separators, a figure rounded to `decimals`, or an aggregate
    of repeated runs as 'median [low–high]'; None is '-'."""
    if n is None:
        return "-"
    if repeat.is_aggregate(n):
        return repeat.format_interval(n, decimals)
    return f"{n:,}" if decimals is None else f"{n:,.{decimals}f}"


def _by_owner(summary, pds):
    """PDs in the order of their owner ids (the system description's), as a run lists them;
    a summary read back from its file has them in alphabetical order."""
    owner = {name: int(number) for number, name in (summary.get("owners") or {}).items()}
    return sorted(pds.items(), key=lambda item: owner.get(item[0], len(owner)))


def _label(value, grouped=False):
    """A core number, a window, the packets of a run: the same in every run, so shown once.
    grouped: with thousands separators."""
    if repeat.is_aggregate(value) and value["low"] == value["high"]:
        value = value["median"]
    if repeat.is_aggregate(value) or (grouped and repeat.is_number(value)):
        return _fmt(value)
    return str(value)


def _table(columns, rows):
    """Lines of a table; columns are (title, width), the first left-aligned and the rest
    right-aligned. A column keeps its width unless a cell needs more, so the tables of a
    single run look as they always have, and intervals still line up."""
    widths = []
    for i, (title, width) in enumerate(columns):
        longest = max(len(cells[i]) for cells in [[t for t, _ in columns]] + rows)
        widths.append(width if longest <= width else longest + 2)

    def line(cells):
        return f"{cells[0]:<{widths[0]}}" + "".join(
            f"{cell:>{width}}" for cell, width in zip(cells[1:], widths[1:]))

    return [line([title for title, _ in columns])] + [line(cells) for cells in rows]


def render(summary, phase=None):
    """Per PD and per core: user, kernel and total instructions, with the main events."""
    section = summary["total"] if phase is None else summary["phases"][str(phase)]
    title = "whole run" if phase is None else f"phase {phase}"
    lines = [f"{summary['system']} on {summary['cores']} core(s), {title}: "
             f"retired instructions ({summary.get('plugin_mode')} count)", ""]
    rows = []
    for name, pd in _by_owner(summary, section["pds"]):
        ins = pd["instructions"] or {}
        rows.append([name, _label(pd["core"]), _fmt(ins.get("user")), _fmt(ins.get("kernel")),
                     _fmt(ins.get("total"))])
    lines += _table([("PD", 18), ("core", 5), ("in the PD", 16), ("kernel for it", 16),
                     ("total", 16)], rows)
    lines.append("")
    rows = []
    for core in section["cores"]:
        ev = core["events"]
        rows.append([_label(core["core"]), _fmt((core["instructions"] or {}).get("total")),
                     _fmt((core["kernel_idle"] or {}).get("total")),
                     _fmt(ev.get("notify_same_core", 0)), _fmt(ev.get("notify_cross_core", 0)),
                     _fmt(ev.get("sgi_sent", 0)), _fmt(ev.get("wakeups", 0))])
    lines += _table([("core", 6), ("total", 16), ("kernel idle", 16), ("notify same", 13),
                     ("notify cross", 14), ("SGIs sent", 11), ("wake-ups", 10)], rows)
    if summary.get("faults"):
        lines.append("")
        for fault in summary["faults"]:
            run = f"run {fault['run']}: " if "run" in fault else ""
            lines.append(f"fault: {run}{fault['pd']} on core {fault['core']}: {fault['what']}")
    return "\n".join(lines)


def _heading(summary, per, unit):
    """What the figures are per: echoed packets (window, payload), or block requests."""
    if summary.get("blk"):
        blk = summary["blk"]
        return (f"{summary['system']} on {summary['cores']} core(s): instructions per "
                f"request, {_label(per['ios'], grouped=True)} requests of "
                f"{_label(blk.get('io_size'), grouped=True)} bytes (depth "
                f"{_label(blk.get('depth'))}, {_label(blk.get('pattern'))}, "
                f"{_label(blk.get('mix'))})")
    load = summary.get("load") or {}
    window, size = load.get("window"), load.get("size")
    return (f"{summary['system']} on {summary['cores']} core(s): instructions per {unit}, "
            f"{_label(per['ios'], grouped=True)} {unit}s echoed (window "
            f"{'?' if window is None else _label(window)}, "
            f"{'?' if size is None else _label(size)}-byte payload)")


def render_per_io(summary, unit=None):
    """Phase 1 per I/O: where the instructions of one packet (or request) went."""
    per = summary.get("per_io")
    if not per:
        return ""
    unit = unit or ("request" if summary.get("blk") else "packet")
    lines = [_heading(summary, per, unit), ""]
    rows = []
    for name, ins in _by_owner(summary, per["pds"]):
        core = summary["total"]["pds"][name]["core"]
        rows.append([name, _label(core), _fmt(ins["user"], 0), _fmt(ins["kernel"], 0),
                     _fmt(ins["total"], 0)])
    lines += _table([("PD", 22), ("core", 5), ("in the PD", 12), ("kernel for it", 15),
                     ("total", 10)], rows)
    for name, vm in per.get("vms", {}).items():
        lines.append("")
        rows = []
        for vcpu in vm["vcpus"]:
            ins = vcpu["instructions"]
            rows.append([f"{name}/{_label(vcpu['vcpu'])}", _label(vcpu["core"]),
                         _fmt(ins["guest_kernel"], 0), _fmt(ins["user"], 0),
                         _fmt(ins["kernel"], 0), _fmt(ins["total"], 0)])
        lines += _table([("vCPU", 22), ("core", 5), ("guest kernel", 14), ("guest user", 12),
                         ("kernel for it", 15), ("total", 10)], rows)
        exits = ", ".join(f"{k} {_fmt(v, 2)}" for k, v in sorted(vm["exits"].items())
                          if _nonzero(v) and k != "virqs")
        lines.append(f"{name}: per {unit}, virtual interrupts "
                     f"{_fmt(vm['exits'].get('virqs', 0), 2)}; exits: {exits or 'none'}")
    lines.append("")
    rows = []
    for core in per["cores"]:
        ev = core["events"]
        rows.append([_label(core["core"]), _fmt(core["instructions"]["total"], 0),
                     _fmt(core["kernel_idle"]["total"], 0),
                     _fmt(ev.get("notify_same_core", 0), 2),
                     _fmt(ev.get("notify_cross_core", 0), 2), _fmt(ev.get("sgi_sent", 0), 2),
                     _fmt(ev.get("device_irqs", 0), 2), _fmt(ev.get("wakeups", 0), 2)])
    lines += _table([("core", 6), ("all", 10), ("idle kernel", 13), ("notify same", 13),
                     ("notify cross", 14), ("SGIs", 8), ("IRQs", 8), ("wake-ups", 10)], rows)
    lines.append("")
    lines.append(f"all instructions per {unit} (every PD, the kernel, every core): "
                 f"{_fmt(per['all_instructions'], 0)}")
    per_kib = summary.get("per_kib")
    if per_kib:
        lines.append(f"all instructions per KiB moved: {_fmt(per_kib['all_instructions'], 0)}")
    return "\n".join(lines)


def _nonzero(value):
    """Whether an exit count shows: in any run, for repeated runs."""
    if repeat.is_aggregate(value):
        return any(value["values"])
    return bool(value)
