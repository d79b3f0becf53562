#!/usr/bin/env python3
"""Derives the numbers of boards/imx8mm-evk/profile.json from the single-core
sDDF figures in ../shared/anchors/sddf-imx8mm/ (docs/place.md, "The i.MX8MM
profile", walks through the same steps). Prints each number with how it was
obtained; it does not write the profile (the profile cites this script).

usage: boards/imx8mm-evk/derive-profile.py [--anchors DIR] [--help]
"""

import argparse
import csv
import statistics
from pathlib import Path

CLOCK_HZ = 1.8e9  # i.MX 8M Mini Quad, Cortex-A53
PAYLOAD_BITS = 1472 * 8  # one echoed UDP packet of 1472 bytes: what the load counts (assumed)
CONFIGS = ["sddf-2pd", "sddf-4pd", "sddf-5pd", "sddf-d5pd", "sddf-mb5pd"]
# Wake-ups per echo when nothing batches: the device interrupt, then each hop of the
# active path (driver -> [rx virt ->] [copier ->] client -> [tx virt ->] driver).
WAKEUPS = {"sddf-2pd": 3, "sddf-4pd": 5, "sddf-5pd": 6, "sddf-d5pd": 6, "sddf-mb5pd": 6}
SIGNAL_SINGLE = 893  # seL4 signal to a higher-priority thread, i.MX8MM, single-core kernel
CLIENT_SHARE = 0.6  # assumed share of the lwIP client in the 2-PD system's work (no anchor)


def load(directory, name):
    rows = []
    with open(directory / f"{name}.csv") as f:
        for r in csv.reader(f):
            if not r or not r[0] or r[0].startswith(("#", "load", "http")):
                continue
            load_req, load_ach, cpu, cycles, rtt = (float(x) for x in r[:5])
            rows.append({"load": load_ach, "cpu": cpu, "cycles_pkt": cycles, "rtt": rtt})
    return rows


def fit_line(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - slope * mx, slope


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    here = Path(__file__).resolve().parent
    parser.add_argument("--anchors", default=str(here.parents[2] / "shared/anchors/sddf-imx8mm"))
    args = parser.parse_args()
    data = {c: load(Path(args.anchors), c) for c in CONFIGS}

    # 1. Counted packets per echoed packet: the CPU column against the cycles column.
    ratios = [r["cpu"] * CLOCK_HZ / (r["load"] * 1e6 / PAYLOAD_BITS) / r["cycles_pkt"]
              for rows in data.values() for r in rows if r["cpu"] >= 0.2]
    k = statistics.median(ratios)
    print(f"1. cycles/pkt counts {k:.3f} packets per echo (median of {len(ratios)} rows, "
          f"CPU >= 0.2; spread {min(ratios):.3f}..{max(ratios):.3f})")
    for rows in data.values():
        for r in rows:
            r["cycles"] = k * r["cycles_pkt"]

    # 2. Batching shape: cycles = W + E (1 - U)^beta, W and E per system, beta shared.
    best = None
    for beta10 in range(5, 41):
        beta = beta10 / 10
        sq = 0
        for rows in data.values():
            xs = [(1 - r["cpu"]) ** beta for r in rows]
            ys = [r["cycles"] for r in rows]
            w, e = fit_line(xs, ys)
            sq += sum(((y - (w + e * x)) / y) ** 2 for x, y in zip(xs, ys))
        if best is None or sq < best[0]:
            best = (sq, beta)
    n_rows = sum(len(rows) for rows in data.values())
    beta = round(best[1])
    print(f"2. batching shape beta = {best[1]:.1f} (rms residual {(best[0] / n_rows) ** 0.5:.1%}); "
          f"used: {beta}")

    # 3. Wake-ups cost the same in every system: E = wake-ups x e; W per system.
    best = None
    for e in range(3000, 9001, 10):
        sq, ws = 0, {}
        for c, rows in data.items():
            xs = [(1 - r["cpu"]) ** beta for r in rows]
            w = statistics.fmean(r["cycles"] - WAKEUPS[c] * e * x for r, x in zip(rows, xs))
            ws[c] = w
            sq += sum(((r["cycles"] - w - WAKEUPS[c] * e * x) / r["cycles"]) ** 2
                      for r, x in zip(rows, xs))
        if best is None or sq < best[0]:
            best = (sq, e, ws)
    sq, wake, ws = best
    print(f"3. one wake-up costs {wake} cycles (rms residual {(sq / n_rows) ** 0.5:.1%}); "
          f"per-echo work W: " + ", ".join(f"{c[5:]} {w:.0f}" for c, w in ws.items()))

    # 4. Per-PD work from the differences between systems.
    no_copier = (ws["sddf-4pd"] + ws["sddf-d5pd"]) / 2  # a dummy copier measures as none
    pair = ws["sddf-2pd"]
    virts = no_copier - pair
    copier = ws["sddf-5pd"] - no_copier
    barriers = (ws["sddf-mb5pd"] - copier) / (ws["sddf-5pd"] - copier)
    client, driver = CLIENT_SHARE * pair, (1 - CLIENT_SHARE) * pair
    print(f"4. driver+client {pair:.0f}; rx+tx virtualisers {virts:.0f} ({virts / 2:.0f} each); "
          f"copier {copier:.0f} ({copier / 1472:.3f} cycles/byte over 1472 bytes); "
          f"barriers multiply the rest by {barriers:.3f}")
    print(f"   with barriers: ethernet_driver {driver * barriers:.0f}, net_virt_rx and "
          f"net_virt_tx {virts / 2 * barriers:.0f} each, client0 {client * barriers:.0f}, "
          f"client0_net_copier {copier:.0f} (all copy)")
    print(f"   a wake-up's own part (the PD's handler): {wake} - {SIGNAL_SINGLE} = "
          f"{wake - SIGNAL_SINGLE}")

    # 5. The multicore kernel: +50% CPU at low load, +20% at high load (anchors README),
    # as factors on per-echo work and on wake-ups, solved from the 5-PD fit.
    w5, e5 = ws["sddf-5pd"], WAKEUPS["sddf-5pd"] * wake
    rate_hi = 957e6 / PAYLOAD_BITS
    u = 0.5  # single-core utilisation at 957 Mb/s under the model: fixed point
    for _ in range(200):
        u = 0.5 * u + 0.5 * rate_hi * (w5 + e5 * (1 - u) ** beta) / CLOCK_HZ
    target = 1.2 * u
    n_hi = (1 - target) ** beta
    # low load: sw W + se E = 0.5 (W + E);  high load: sw W + se E n_hi = target f/rate - W - E n_hi
    rhs_lo = 0.5 * (w5 + e5)
    rhs_hi = target * CLOCK_HZ / rate_hi - w5 - e5 * n_hi
    se = (rhs_lo - rhs_hi) / (e5 - e5 * n_hi)
    sw = (rhs_lo - se * e5) / w5
    print(f"5. model utilisation of the 5-PD system at 957 Mb/s: {u:.3f} (measured 0.77); "
          f"multicore kernel: work x{1 + sw:.3f}, wake-ups x{1 + se:.3f}")

    # 6. The part of a round trip outside the system (load generator, wire, NIC).
    outside = []
    for r in data["sddf-mb5pd"]:
        if 100 <= r["load"] <= 300:
            rate = r["load"] * 1e6 / PAYLOAD_BITS
            inside_us = (r["cycles"] / CLOCK_HZ + r["cpu"] ** 2 / (rate * (1 - r["cpu"]))) * 1e6
            outside.append(r["rtt"] - inside_us)
    print(f"6. outside the system: {statistics.fmean(outside):.0f} us (mean over the 2-client "
          f"system's rows at 100-300 Mb/s: RTT minus the echo's own cycles and queueing)")


if __name__ == "__main__":
    main()
