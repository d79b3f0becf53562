"""Model validation: place's predictions held against a sweep's measurements
(docs/sweep.md, "Model validation").

Per layout and core: predicted and measured instructions per packet and the error; per
system and batching policy: the mean and worst error per core, the bottleneck's error, how
often the predicted bottleneck core is the measured one, and Spearman's rank correlation
between predicted and measured bottleneck cost over the layouts."""

import math
import statistics

from .sweep import MAX_CORES, num

VALIDATION_COLUMNS = ["system", "batching", "packets", "window", "layout", "cores", "core",
                      "measured_ipp", "predicted_ipp", "error_ipp", "error_pct",
                      "measured_bottleneck", "predicted_bottleneck", "calibration_layout"]


def ranks(values):
    """Ranks 1..n, ties sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = mean
        i = j + 1
    return out


def spearman(xs, ys):
    """Spearman's rank correlation (Pearson's on the ranks, ties averaged); None when it is
    not defined (fewer than 2 pairs, or one side constant)."""
    if len(xs) != len(ys):
        raise ValueError("spearman: the two lists differ in length")
    if len(xs) < 2:
        return None
    rx, ry = ranks(list(xs)), ranks(list(ys))
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _pct(predicted, measured):
    return 100.0 * (predicted - measured) / measured if measured else None


def compared(rows):
    """The rows that ran and have a prediction."""
    return [r for r in rows if r.get("status") == "ok" and num(r, "pred_bottleneck_ipp")
            is not None and num(r, "bottleneck_ipp") is not None]


def per_core_errors(rows):
    """One record per (layout, core), plus core 'bottleneck' and 'total', for each row that ran
    and has a prediction."""
    out = []
    for r in compared(rows):
        base = {k: r[k] for k in ("system", "batching", "packets", "window", "layout", "cores",
                                  "calibration_layout")}
        base["measured_bottleneck"] = r["bottleneck_core"]
        base["predicted_bottleneck"] = r["pred_bottleneck_core"]
        pairs = []
        for c in range(MAX_CORES):
            m, p = num(r, f"core{c}_ipp"), num(r, f"pred_core{c}_ipp")
            if m is not None and p is not None:
                pairs.append((str(c), m, p))
        pairs.append(("bottleneck", num(r, "bottleneck_ipp"), num(r, "pred_bottleneck_ipp")))
        pairs.append(("total", num(r, "total_ipp"), num(r, "pred_total_ipp")))
        for core, m, p in pairs:
            err = _pct(p, m)
            out.append(dict(base, core=core, measured_ipp=round(m, 2), predicted_ipp=round(p, 2),
                            error_ipp=round(p - m, 2),
                            error_pct=round(err, 2) if err is not None else ""))
    return out


def summarise(rows):
    """Per (system, batching, packets, window): a dict of the validation's figures."""
    groups = {}
    for r in rows:
        groups.setdefault((r["system"], r["batching"], r["packets"], r["window"]), []).append(r)
    out = []
    for key, group in sorted(groups.items()):
        ok = [r for r in group if r["status"] == "ok"]
        both = compared(group)
        records = [e for e in per_core_errors(both) if e["error_pct"] != ""]
        core_errs = [abs(e["error_pct"]) for e in records if e["core"] not in ("bottleneck",
                                                                               "total")]
        neck = [e for e in records if e["core"] == "bottleneck"]
        total = [e for e in records if e["core"] == "total"]
        held_out = [r for r in both if r.get("calibration_layout") != "yes"]
        summary = {
            "system": key[0], "batching": key[1], "packets": key[2], "window": key[3],
            "layouts": len(group), "ok": len(ok), "failed": len(group) - len(ok),
            "compared": len(both),
            "core_mape": statistics.fmean(core_errs) if core_errs else None,
            "core_max_ape": max(core_errs) if core_errs else None,
            "bottleneck_mape": statistics.fmean(abs(e["error_pct"]) for e in neck)
            if neck else None,
            "bottleneck_bias": statistics.fmean(e["error_pct"] for e in neck) if neck else None,
            "total_mape": statistics.fmean(abs(e["error_pct"]) for e in total) if total else None,
            "same_bottleneck": sum(1 for r in both if r["bottleneck_core"] ==
                                   r["pred_bottleneck_core"]) / len(both) if both else None,
            "spearman_bottleneck": spearman([num(r, "pred_bottleneck_ipp") for r in held_out],
                                            [num(r, "bottleneck_ipp") for r in held_out]),
            "spearman_total": spearman([num(r, "pred_total_ipp") for r in held_out],
                                       [num(r, "total_ipp") for r in held_out]),
            "held_out": len(held_out),
        }
        if neck:
            worst = max(neck, key=lambda e: abs(e["error_pct"]))
            summary["worst"] = f"{worst['layout']} ({worst['error_pct']:+.1f}%)"
        by_cores = {}
        for r in held_out:
            by_cores.setdefault(int(r["cores"]), []).append(r)
        summary["spearman_by_cores"] = {
            n: spearman([num(r, "pred_bottleneck_ipp") for r in rs],
                        [num(r, "bottleneck_ipp") for r in rs])
            for n, rs in sorted(by_cores.items())}
        out.append(summary)
    return out


def _f(value, fmt):
    return "–" if value is None else format(value, fmt)


DEFAULT_METHOD = ("`place --evaluate` with a profile derived from the one-core calibration "
                  "run, each layout at its own predicted throughput limit")


def markdown(summaries, commands=(), method=DEFAULT_METHOD):
    """A short Markdown summary of summarise()'s figures."""
    lines = [f"Model validation: place's prediction ({method}) against the measured "
             "instructions per packet.", ""]
    if commands:
        lines += ["Data:", ""] + [f"    {c}" for c in commands] + [""]
    lines += ["| system | batching | layouts (ok/failed) | error per core, mean (worst) | "
              "bottleneck error, mean (bias) | same bottleneck core | Spearman ρ bottleneck "
              "(n) | Spearman ρ total |",
              "|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        lines.append(
            f"| {s['system']} | {s['batching']} | {s['ok']}/{s['failed']} | "
            f"{_f(s['core_mape'], '.1f')}% ({_f(s['core_max_ape'], '.1f')}%) | "
            f"{_f(s['bottleneck_mape'], '.1f')}% ({_f(s['bottleneck_bias'], '+.1f')}%) | "
            f"{_f(None if s['same_bottleneck'] is None else 100 * s['same_bottleneck'], '.0f')}%"
            f" | {_f(s['spearman_bottleneck'], '.3f')} ({s['held_out']}) | "
            f"{_f(s['spearman_total'], '.3f')} |")
    lines += ["", "Spearman ρ of the bottleneck cost within each core count (the calibration "
              "layout left out):", ""]
    for s in summaries:
        parts = [f"{n} cores: {_f(rho, '.3f')}" for n, rho in s["spearman_by_cores"].items()]
        lines.append(f"- {s['system']}, {s['batching']}: " + "; ".join(parts))
    lines += ["", "Errors are (predicted − measured) / measured. The one-core layout, where "
              "the sweep's calibration runs are made, is in the error columns but left out of "
              "the rank correlations (a profile from another calibration layout says so in "
              "its file name)."]
    return "\n".join(lines) + "\n"


def write_validation(out_dir, rows, commands=(), method=DEFAULT_METHOD):
    """OUT/validation.csv (per layout and core) and OUT/validation.md; returns the summaries."""
    import csv
    import io
    from pathlib import Path

    from .sweep import write_text_atomic
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=VALIDATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(per_core_errors(rows))
    write_text_atomic(Path(out_dir) / "validation.csv", buf.getvalue())
    summaries = summarise(rows)
    write_text_atomic(Path(out_dir) / "validation.md", markdown(summaries, commands, method))
    return summaries
