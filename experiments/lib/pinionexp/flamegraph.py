"""A two-level flame-graph-style SVG of a guest kernel's profile: subsystems on the top
row, their functions below, widths proportional to instructions per I/O, a tooltip on
every rectangle. Functions too narrow to read are merged into one "… N more" per
subsystem. Written directly (no gnuplot): a plain SVG that any browser shows."""

from xml.sax.saxutils import escape

WIDTH = 1200
MARGIN = 10
ROW_HEIGHT = 26
CHAR_WIDTH = 6.6  # at font-size 11: enough to decide whether a name fits
MIN_FUNCTION_WIDTH = 3.0  # pixels; narrower functions are merged

# One colour per subsystem (profile.SUBSYSTEMS' ids), the plots' palette.
COLOURS = {
    "virtio": "#1f77b4", "block": "#bcbd22", "netcore": "#2ca02c", "skb": "#98df8a", "socket": "#ff7f0e",
    "syscall": "#ffbb78", "uio": "#c5b0d5", "pinion": "#9467bd", "sched": "#8c564b",
    "timer": "#c49c94", "irq": "#e377c2", "other": "#7f7f7f", "outside_symbols": "#c7c7c7",
}


def _rect(x, y, width, colour, tooltip, text, opacity=1.0):
    parts = [f'<g><title>{escape(tooltip)}</title>',
             f'<rect x="{x:.2f}" y="{y}" width="{max(width - 1, 0.5):.2f}" '
             f'height="{ROW_HEIGHT - 2}" fill="{colour}" fill-opacity="{opacity}" rx="2"/>']
    room = int((width - 6) / CHAR_WIDTH)
    if room >= 3:
        shown = text if len(text) <= room else text[:room - 1] + "…"
        parts.append(f'<text x="{x + 3:.2f}" y="{y + ROW_HEIGHT - 9}">{escape(shown)}</text>')
    parts.append("</g>")
    return "".join(parts)


def render(title, subtitle, subsystems, functions, total, labels):
    """
    subsystems: [(id, per I/O)] in display order; functions: [(name, subsystem id, per
    I/O)]; total: the guest kernel's instructions per I/O (the full width); labels:
    {id: label}. Returns the SVG text.
    """
    inner = WIDTH - 2 * MARGIN
    scale = inner / total if total > 0 else 0.0
    top = 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
           f'height="{top + 2 * ROW_HEIGHT + 40}" font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{MARGIN}" y="20" font-size="15">{escape(title)}</text>',
           f'<text x="{MARGIN}" y="38" fill="#555555">{escape(subtitle)}</text>']
    x = float(MARGIN)
    for subsystem, value in subsystems:
        if value <= 0:
            continue
        width = value * scale
        label = labels.get(subsystem, subsystem)
        share = value / total if total else 0.0
        out.append(_rect(x, top, width, COLOURS.get(subsystem, "#7f7f7f"),
                         f"{label}: {value:,.1f} instructions per I/O ({share:.1%} of the "
                         "guest kernel)", label))
        members = sorted((f for f in functions if f[1] == subsystem and f[2] > 0),
                         key=lambda f: (-f[2], f[0]))
        fx = x
        shown = [f for f in members if f[2] * scale >= MIN_FUNCTION_WIDTH]
        rest = [f for f in members if f[2] * scale < MIN_FUNCTION_WIDTH]
        for name, _, fvalue in shown:
            out.append(_rect(fx, top + ROW_HEIGHT, fvalue * scale,
                             COLOURS.get(subsystem, "#7f7f7f"),
                             f"{name} ({label}): {fvalue:,.1f} instructions per I/O "
                             f"({fvalue / total:.1%} of the guest kernel)", name, 0.75))
            fx += fvalue * scale
        if rest:
            rest_value = sum(f[2] for f in rest)
            names = ", ".join(f[0] for f in rest[:12]) + (", …" if len(rest) > 12 else "")
            out.append(_rect(fx, top + ROW_HEIGHT, rest_value * scale,
                             COLOURS.get(subsystem, "#7f7f7f"),
                             f"… {len(rest)} more ({label}): {rest_value:,.1f} instructions "
                             f"per I/O: {names}", f"… {len(rest)} more", 0.45))
        x += width
    out.append(f'<text x="{MARGIN}" y="{top + 2 * ROW_HEIGHT + 22}" fill="#555555">'
               "top row: subsystems; below: their functions, largest first (hover for "
               "the figures)</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
