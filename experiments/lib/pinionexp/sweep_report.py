"""Tables and plot data from sweep CSVs (experiments/report/sweep-report, docs/sweep.md).

Every function takes rows as read from sweep.csv (dicts of strings) and returns records
(dicts) ready for a CSV, a Markdown table or a gnuplot data file."""

import statistics

from .sweep import MAX_CORES, num
from .sweep_model import spearman


def ok_rows(rows, batching=None):
    return [r for r in rows if r["status"] == "ok" and (batching is None or
                                                         r["batching"] == batching)]


def one_core_cost(rows, more=()):
    """The one-core layout's measured instructions per packet: the median of its rows (any
    batching: on one core batching has no effect) and of `more` (the calibration runs'),
    or None when there is none."""
    values = [num(r, "total_ipp") for r in ok_rows(rows) if r["cores"] == "1"] + list(more)
    return statistics.median(values) if values else None


def per_core_series(rows, batching):
    """Layouts of one batching policy, ordered by core count then measured bottleneck cost:
    index, cores, layout, per-core measured cost, bottleneck, total."""
    chosen = sorted(ok_rows(rows, batching),
                    key=lambda r: (int(r["cores"]), num(r, "bottleneck_ipp"), r["layout"]))
    out = []
    for i, r in enumerate(chosen, 1):
        rec = {"index": i, "cores": r["cores"], "layout": r["layout"]}
        for c in range(MAX_CORES):
            v = num(r, f"core{c}_ipp")
            rec[f"core{c}"] = "" if v is None else v
        rec["bottleneck"] = num(r, "bottleneck_ipp")
        rec["total"] = num(r, "total_ipp")
        p = num(r, "pred_bottleneck_ipp")
        rec["pred_bottleneck"] = "" if p is None else p
        out.append(rec)
    return out


def core_count_bounds(series):
    """(first index, last index, cores) of each core count in a per_core_series."""
    bounds = []
    for rec in series:
        if bounds and bounds[-1][2] == rec["cores"]:
            bounds[-1][1] = rec["index"]
        else:
            bounds.append([rec["index"], rec["index"], rec["cores"]])
    return [tuple(b) for b in bounds]


def hidden(rows, native_one_core, system_label, batching):
    """For each layout: its bottleneck core's cost as a fraction of the one-core native cost
    (the whole native echo on one core); and the best layout per core count."""
    out = []
    for r in ok_rows(rows, batching):
        out.append({"system": system_label, "cores": int(r["cores"]), "layout": r["layout"],
                    "bottleneck_ipp": num(r, "bottleneck_ipp"), "total_ipp": num(r, "total_ipp"),
                    "fraction": num(r, "bottleneck_ipp") / native_one_core,
                    "total_fraction": num(r, "total_ipp") / native_one_core,
                    "sgis_pp": num(r, "sgis_pp")})
    out.sort(key=lambda rec: (rec["cores"], rec["fraction"], rec["layout"]))
    best = {}
    for rec in out:
        if rec["cores"] not in best:
            best[rec["cores"]] = rec
    return out, [best[n] for n in sorted(best)]


def batching_table(rows):
    """Per core count and policy, over the layouts run with every policy present: mean SGIs,
    notifications, bottleneck and total instructions per packet, and the change of each
    policy's bottleneck cost against end_of_handler's on the same layout."""
    by_layout = {}
    for r in ok_rows(rows):
        by_layout.setdefault(r["layout"], {})[r["batching"]] = r
    policies = sorted({r["batching"] for r in ok_rows(rows)})
    common = {lay: rs for lay, rs in by_layout.items() if set(rs) == set(policies)}
    out = []
    for n in sorted({int(r["cores"]) for rs in common.values() for r in rs.values()}):
        layouts = [rs for rs in common.values() if int(next(iter(rs.values()))["cores"]) == n]
        for policy in policies:
            rs = [x[policy] for x in layouts]
            rec = {"cores": n, "batching": policy, "layouts": len(rs)}
            for col in ("sgis_pp", "notifications_pp", "notify_cross_pp", "wakeups_pp",
                        "bottleneck_ipp", "total_ipp", "kernel_ipp", "pred_sgis_pp",
                        "pred_bottleneck_ipp"):
                values = [num(r, col) for r in rs if num(r, col) is not None]
                rec[col] = round(statistics.fmean(values), 3) if values else ""
            if "end_of_handler" in policies:
                changes = [100 * (num(x[policy], "bottleneck_ipp") /
                                  num(x["end_of_handler"], "bottleneck_ipp") - 1)
                           for x in layouts]
                rec["bottleneck_vs_eoh_pct"] = round(statistics.fmean(changes), 2) \
                    if changes else ""
            out.append(rec)
    return out


def predicted_vs_measured(rows, system_label):
    """Scatter points: (measured, predicted) per core, and per layout's bottleneck."""
    cores, necks = [], []
    for r in ok_rows(rows):
        if num(r, "pred_bottleneck_ipp") is None:
            continue
        for c in range(MAX_CORES):
            m, p = num(r, f"core{c}_ipp"), num(r, f"pred_core{c}_ipp")
            if m is not None and p is not None:
                cores.append({"system": system_label, "batching": r["batching"],
                              "layout": r["layout"], "core": c, "measured": m, "predicted": p})
        necks.append({"system": system_label, "batching": r["batching"], "layout": r["layout"],
                      "measured": num(r, "bottleneck_ipp"),
                      "predicted": num(r, "pred_bottleneck_ipp")})
    rho = spearman([n["predicted"] for n in necks], [n["measured"] for n in necks]) \
        if len(necks) > 1 else None
    return cores, necks, rho


def markdown_table(records, columns, headers=None, formats=None):
    headers = headers or columns
    formats = formats or {}
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(columns)]
    for rec in records:
        cells = []
        for c in columns:
            v = rec.get(c, "")
            cells.append(format(v, formats[c]) if c in formats and v != "" and v is not None
                         else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def choice_rank(rows, layout_id, batching):
    """Where a layout (place's choice) stands among the measured layouts of its core count:
    a record with its rank by measured bottleneck cost (1 = the best), the best layout and
    the gap to it; None when the layout was not run."""
    mine = [r for r in ok_rows(rows, batching) if r["layout"] == layout_id]
    if not mine:
        return None
    same = sorted((r for r in ok_rows(rows, batching) if r["cores"] == mine[0]["cores"]),
                  key=lambda r: (num(r, "bottleneck_ipp"), r["layout"]))
    rank = [r["layout"] for r in same].index(layout_id) + 1
    best, chosen = same[0], mine[0]
    return {"cores": int(chosen["cores"]), "layout": layout_id,
            "bottleneck_ipp": num(chosen, "bottleneck_ipp"), "rank": rank, "of": len(same),
            "best": best["layout"], "best_ipp": num(best, "bottleneck_ipp"),
            "gap_pct": round(100 * (num(chosen, "bottleneck_ipp") /
                                    num(best, "bottleneck_ipp") - 1), 2)}
