#!/usr/bin/env python3
"""experiments/sweep end to end in QEMU: systems/net-echo.json, a sample of 3 two-core
layouts of 500 packets each, then two more batching policies for one layout; every row
ran, was measured and predicted; a second sweep with the same arguments runs nothing.

usage: check_sweep_e2e.py BUILD_DIR WORK_DIR"""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def sweep(build, *args):
    cmd = [sys.executable, str(REPO / "experiments/sweep"), "systems/net-echo.json",
           "--build-dir", str(build)] + list(args)
    return subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    build, work = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    out = work / "sweep"
    args = ["--cores", "2", "--packets", "500", "--sample", "3", "--out", str(out)]

    plan = sweep(build, *args, "--dry-run")
    check(plan.returncode == 0, f"dry run failed: {plan.stderr}")
    planned = [line.split()[0] for line in plan.stdout.splitlines()]
    check(len(planned) == 3, f"dry run: {plan.stdout}")

    first = sweep(build, *args)
    check(first.returncode == 0, f"sweep failed ({first.returncode}): {first.stderr[-2000:]}")
    table = out / "sweep.csv"
    if not table.exists():
        failures.append("no sweep.csv")
        return report()
    got = rows(table)
    check([r["layout"] for r in got] == planned,
          f"rows {[r['layout'] for r in got]}, planned {planned}")
    for r in got:
        name = f"layout {r['layout']}"
        check(r["status"] == "ok", f"{name}: {r['status']} {r['reason']}")
        check(r["cores"] == "2" and r["batching"] == "end_of_handler" and
              r["packets"] == "500" and r["window"] == "64", f"{name}: keys {r}")
        check(r["core0_ipp"] and r["core1_ipp"] and not r["core2_ipp"], f"{name}: per core")
        ipp = [float(r["core0_ipp"]), float(r["core1_ipp"])]
        check(float(r["bottleneck_ipp"]) == max(ipp), f"{name}: bottleneck {r}")
        check(abs(float(r["total_ipp"]) - sum(ipp)) < 1, f"{name}: total {r}")
        check(500 < float(r["total_ipp"]) < 10000, f"{name}: total {r['total_ipp']}")
        check(float(r["pred_bottleneck_ipp"]) > 0 and r["pred_core1_util"], f"{name}: "
              f"prediction {r['pred_bottleneck_ipp']!r} {r['pred_note']!r}")
        check(r["command"].startswith("experiments/run systems/net-echo.json --placement"),
              f"{name}: command {r['command']}")
        run_dir = REPO / r["run_dir"] if not Path(r["run_dir"]).is_absolute() else \
            Path(r["run_dir"])
        summary = json.loads((run_dir / "summary.json").read_text())
        check(summary["status"] == "ok" and summary["load"]["packets"] == 500,
              f"{name}: its summary")
        check(not (run_dir / "image.elf").exists(), f"{name}: image.elf kept")
        placement = json.loads((out / "placements/end_of_handler" /
                                f"{r['layout']}.json").read_text())
        check(placement["cores"] == 2 and placement["batching"]["default"]["policy"] ==
              "end_of_handler", f"{name}: placement {placement}")
    for cal in ("p500-w64", "p500-w64-2", "p500-w64-3"):
        check((out / "calibration" / cal / "summary.json").exists(), f"no calibration {cal}")
    meta = json.loads((out / "sweep.json").read_text())
    chosen = meta.get("calibration", {}).get("p500-w64", {})
    check(len(chosen.get("all_instructions", [])) == 3 and chosen.get("chosen"),
          f"sweep.json: calibration {chosen}")
    profile = json.loads((out / "profile-p500-w64.json").read_text())
    check(profile["systems"]["net-echo"]["work"]["ethernet_driver"]["work"] > 0,
          "derived profile without the driver's work")
    check("Spearman" in (out / "validation.md").read_text(), "no validation.md")
    check(len(rows(out / "validation.csv")) == 3 * 4, "validation.csv: 4 records per layout")
    check("[3/3] layout" in first.stderr, f"progress: {first.stderr[-1000:]}")

    # The same arguments again: nothing runs, nothing changes.
    before = table.read_bytes()
    again = sweep(build, *args)
    check(again.returncode == 0, f"second sweep failed: {again.stderr}")
    check("3 of 3 runs already in" in again.stderr and "sweep: 0 run, 3 already done" in
          again.stderr, f"second sweep: {again.stderr}")
    check("[1/" not in again.stderr, "second sweep ran something")
    check(table.read_bytes() == before, "second sweep changed sweep.csv")

    # The same measurements against another model: a closed-loop profile, nothing re-run.
    closed = work / "closed-loop.json"
    derive = subprocess.run([sys.executable, str(REPO / "boards/qemu-virt-aarch64/derive-profile"),
                             str(REPO / "systems/net-echo.json"),
                             str(out / "calibration/p500-w64/summary.json"), "--closed-loop",
                             "--out", str(closed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    check(derive.returncode == 0, f"derive-profile --closed-loop: {derive.stderr}")
    again_out = work / "repredicted"
    repredict = subprocess.run([sys.executable, str(REPO / "experiments/report/repredict"),
                                str(out), "--profile", str(closed), "--out", str(again_out),
                                "--build-dir", str(build)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    check(repredict.returncode == 0, f"repredict: {repredict.stderr}")
    if repredict.returncode == 0:
        new = rows(again_out / "sweep.csv")
        check([r["layout"] for r in new] == planned, "repredict: other rows")
        check(all(r["core0_ipp"] == o["core0_ipp"] for r, o in zip(new, got)),
              "repredict: the measurements changed")
        check(all(r["pred_bottleneck_ipp"] for r in new), "repredict: no predictions")
        check(str(closed) in (again_out / "validation.md").read_text(),
              "repredict: validation.md does not name the profile")
    check(table.read_bytes() == before, "repredict changed the sweep's CSV")

    # Other batching policies: new rows for the same layout.
    more = sweep(build, "--cores", "2", "--packets", "500", "--sample", "1", "--out", str(out),
                 "--batching", "immediate,coalesce")
    check(more.returncode == 0, f"batching sweep failed: {more.stderr[-2000:]}")
    got = rows(table)
    check(len(got) == 5, f"{len(got)} rows after the batching sweep, expected 5")
    by = {r["batching"]: r for r in got[3:]}
    check(set(by) == {"immediate", "coalesce"}, f"batching rows {list(by)}")
    for label, r in by.items():
        check(r["status"] == "ok" and r["sgis_pp"] != "" and r["pred_sgis_pp"] != "",
              f"{label}: {r['status']} {r['reason']}")
    return report()


def report():
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"sweep_e2e: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
