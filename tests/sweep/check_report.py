#!/usr/bin/env python3
"""experiments/report/sweep-report on made-up sweeps (a native and a driver-VM sweep, two
batching policies) and a made-up compare.csv: every table and figure is written, PNG and
SVG, each names the command behind its data; and the errors a user can meet.

usage: check_report.py WORK_DIR"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments/lib"))
from pinionexp import sweep  # noqa: E402

REPORT = REPO / "experiments/report/sweep-report"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def make_sweep(directory, system, scale):
    """A sweep directory as experiments/sweep leaves it, with invented but consistent rows."""
    table = sweep.SweepCSV(directory / "sweep.csv")
    layouts = [("0000000", 1, [1800]), ("0000001", 2, [1100, 700]), ("0001111", 2, [900, 800]),
               ("0000012", 3, [800, 500, 400]), ("0001123", 4, [700, 400, 350, 300]),
               ("0112233", 4, [450, 600, 420, 400])]
    for batching, sgis in (("end_of_handler", 0.1), ("immediate", 0.3)):
        for lay, cores, ipp in layouts:
            ipp = [v * scale for v in ipp]
            neck = max(range(len(ipp)), key=lambda c: ipp[c])
            row = {"system": system, "layout": lay, "cores": cores, "batching": batching,
                   "packets": 500, "window": 64, "status": "ok",
                   "calibration_layout": "yes" if cores == 1 else "no",
                   "bottleneck_core": neck, "bottleneck_ipp": ipp[neck], "total_ipp": sum(ipp),
                   "sgis_pp": sgis * (cores - 1), "notify_cross_pp": 0.2 * (cores - 1),
                   "pred_bottleneck_core": neck, "pred_bottleneck_ipp": ipp[neck] * 1.1,
                   "pred_total_ipp": sum(ipp) * 1.1, "pred_sgis_pp": sgis}
            for c, v in enumerate(ipp):
                row[f"core{c}_ipp"] = v
                row[f"pred_core{c}_ipp"] = v * 1.1
            table.append(row)
        table.append({"system": system, "layout": "0123000", "cores": 4, "batching": batching,
                      "packets": 500, "window": 64, "status": "failed", "reason": "boom"})
    meta = {"system": system, "commands": [
        {"command": f"experiments/sweep systems/{system}.json --cores 1..4 --packets 500"},
        {"command": f"experiments/sweep systems/{system}.json --cores 1..4 --packets 500 "
         "--batching immediate"}],
        "layouts": {"1": {"distinct": 1, "run": 1, "sampled": False},
                    "2": {"distinct": 63, "run": 2, "sampled": True, "seed": 1}}}
    (directory / "sweep.json").write_text(json.dumps(meta))


def report(*args):
    return subprocess.run([sys.executable, str(REPORT)] + list(args), cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    work = Path(sys.argv[1])
    shutil.rmtree(work, ignore_errors=True)
    native, dvm, out = work / "native", work / "dvm", work / "report"
    native.mkdir(parents=True)
    dvm.mkdir()
    make_sweep(native, "net-echo", 1.0)
    make_sweep(dvm, "net-echo-dvm", 4.0)
    compare = work / "compare.csv"
    compare.write_text(
        "name,kind,cores,packets,total,native_pds,pinion_kernel,guest_kernel,guest_user,"
        "exits_total,virqs,bytes_copied,notifications,sgis,per_core,command\n"
        "native-1core,native,1,500,1800,1500,300,0,0,0,0,106,0.5,0,1800,experiments/run a\n"
        "dvm-2core,driver VM,2,500,9000,1300,500,6900,300,0.35,0.32,106,0.3,0.05,"
        "1100 7900,experiments/run b\n"
        "linux-1core,Linux,1,500,7000,0,0,6000,1000,0,0,0,0,0,7000,"
        "experiments/net/linux-baseline\n")

    variant = work / "variant"
    variant.mkdir()
    make_sweep(variant, "net-echo", 1.0)
    meta = json.loads((variant / "sweep.json").read_text())
    meta["profile"] = "closed-loop.json"
    (variant / "sweep.json").write_text(json.dumps(meta))
    done = report("--native", str(native), "--dvm", str(dvm), "--compare", str(compare),
                  "--variant", str(variant), "--out", str(out))
    check(done.returncode == 0, f"report failed: {done.stderr}")
    figures = ["per-core-net-echo", "per-core-net-echo-dvm", "predicted-vs-measured",
               "hidden-by-parallelism", "batching-net-echo", "batching-net-echo-dvm",
               "overhead-breakdown"]
    for base in figures:
        png, svg = out / f"{base}.png", out / f"{base}.svg"
        check(png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png}: no PNG")
        check(svg.exists() and "<svg" in svg.read_text()[:2000], f"{svg}: no SVG")
        if svg.exists():
            check("experiments/" in svg.read_text(), f"{svg}: does not name its command")
    for name in ["model-validation.csv", "model-validation.md", "hidden.csv", "hidden-best.csv",
                 "batching-net-echo.csv", "predicted-cores.csv", "report.md"]:
        check((out / name).exists(), f"{name} not written")
    text = (out / "report.md").read_text() if (out / "report.md").exists() else ""
    for needed in ["experiments/sweep systems/net-echo.json --cores 1..4 --packets 500",
                   "experiments/sweep systems/net-echo-dvm.json", "experiments/net/compare",
                   "end_of_handler: 1 core: all 1, 2 cores: a sample of 2 of 63 layouts "
                   "(seed 1)", "| net-echo-dvm | 4 |",
                   "one-core native echo costs 1,800 instructions per packet",
                   "### Variant: variant", "`place --evaluate` with closed-loop.json"]:
        check(needed in text, f"report.md lacks {needed!r}")
    best = (out / "hidden-best.csv").read_text().splitlines() if (out / "hidden-best.csv"
                                                                   ).exists() else []
    # native 4 cores: the best layout is 0112233 (600 / 1800); driver VM one core: 4x native
    check(any(line.startswith("net-echo,4,0112233,600.0,") for line in best), f"best {best}")
    check(any(line.startswith("net-echo-dvm,1,0000000,7200.0,7200.0,4.0") for line in best),
          f"best {best}")

    tables = report("--native", str(native), "--dvm", str(work / "none"), "--compare",
                    str(work / "none.csv"), "--out", str(work / "tables"), "--no-plots")
    check(tables.returncode == 0, f"--no-plots failed: {tables.stderr}")
    check(not list((work / "tables").glob("*.png")), "--no-plots made plots")
    check("driver-VM sweep:" in (work / "tables/report.md").read_text(),
          "a missing driver-VM sweep is not said")
    missing = report("--native", str(work / "nothing"), "--out", str(work / "x"))
    check(missing.returncode == 1 and "no native sweep" in missing.stderr,
          f"missing native sweep: {missing.returncode} {missing.stderr}")
    bad = work / "bad.csv"
    bad.write_text("name,total\nx,1\n")
    wrong = report("--native", str(native), "--compare", str(bad), "--out", str(work / "y"),
                   "--no-plots")
    check(wrong.returncode == 1 and "expected the columns" in wrong.stderr,
          f"a compare.csv without its columns: {wrong.stderr}")

    for failure in failures:
        print(f"FAIL {failure}")
    print(f"sweep_report: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
