#!/usr/bin/env python3
"""experiments/sweep as a user runs it, without QEMU: --help, one clear message for each
kind of bad input, the lock, and --dry-run's plan (place's enumeration, the sample).

usage: check_sweep_cli.py BUILD_DIR WORK_DIR"""

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SWEEP = REPO / "experiments/sweep"
failures = []


def sweep(*args, build=None):
    cmd = [sys.executable, str(SWEEP)] + list(args)
    if build:
        cmd += ["--build-dir", str(build)]
    return subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def expect(name, done, status, says=None, stream="stderr"):
    text = getattr(done, stream)
    if done.returncode != status or (says is not None and says not in text):
        failures.append(f"{name}: exit {done.returncode} (expected {status}), "
                        f"{stream} {text.strip()[-400:]!r} (expected {says!r})")


def main():
    build, work = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    system = "systems/net-echo.json"

    expect("--help", sweep("--help"), 0, "Resumable", "stdout")
    expect("no system", sweep(), 2, "the following arguments are required: system")
    expect("unknown system", sweep("systems/nope.json", build=build), 2,
           "systems/nope.json: no such system description")
    for cores, says in [("0", "0 is out of range 1..4"), ("5", "5 is out of range 1..4"),
                        ("1..9", "5 is out of range 1..4"), ("abc", "give N, A..B"),
                        ("4..2", "empty range")]:
        expect(f"--cores {cores}", sweep(system, "--cores", cores, build=build), 2, says)
    expect("bad batching", sweep(system, "--batching", "sometimes", build=build), 2,
           "unknown policy; one of immediate, end_of_handler, coalesce, or all")
    expect("bad coalesce", sweep(system, "--batching", "coalesce:0:9", build=build), 2,
           "COUNT 1..65535")
    expect("--sample 0", sweep(system, "--sample", "0", build=build), 2, "must be at least 1")
    expect("--packets x", sweep(system, "--packets", "x", build=build), 2, "not a whole number")
    expect("--predict-load", sweep(system, "--predict-load", "fast", build=build), 2,
           "'saturate' or a positive number")
    expect("--profile", sweep(system, "--profile", "nope.json", build=build), 2,
           "--profile nope.json: no such file")
    expect("--calibration-layout", sweep(system, "--calibration-layout", "1000000", "--out",
                                         str(work / "cal"), build=build), 1,
           "--calibration-layout: '1000000': number the cores by first use")
    not_json = work / "broken.json"
    not_json.write_text("{ nope")
    expect("not JSON", sweep(str(not_json), build=build), 1, "not JSON")
    expect("not built", sweep(system, "--out", str(work / "x"), build=work / "no-build"), 1,
           "not built: place")

    # The plan: place's layouts with exactly N cores, sampled deterministically.
    out = work / "plan"
    first = sweep(system, "--cores", "2", "--sample", "3", "--dry-run", "--out", str(out),
                  build=build)
    expect("dry run", first, 0, "cores 2: a sample of 3 of the 63 layouts (--sample 3 --seed 1)")
    lines = first.stdout.splitlines()
    if len(lines) != 3 or not all(line.split()[1] == "2" for line in lines):
        failures.append(f"dry run: expected 3 two-core layouts, got {lines}")
    again = sweep(system, "--cores", "2", "--sample", "3", "--dry-run", "--out", str(out),
                  build=build)
    if again.stdout != first.stdout:
        failures.append("dry run: the same sample twice expected")
    other = sweep(system, "--cores", "2", "--sample", "3", "--seed", "9", "--dry-run", "--out",
                  str(out), build=build)
    if other.stdout == first.stdout:
        failures.append("dry run: another seed should give another sample")
    full = sweep(system, "--cores", "1..4", "--batching", "all", "--dry-run", "--out", str(out),
                 build=build)
    expect("dry run 1..4", full, 0, "cores 4: all 350 layouts")
    counts = {}
    for line in full.stdout.splitlines():
        n, batching = line.split()[1], line.split()[2].rstrip(":")
        counts[(n, batching)] = counts.get((n, batching), 0) + 1
    # Set partitions of 7 PDs into exactly N blocks: 1, 63, 301, 350.
    want = {(str(n), b): c for n, c in [(1, 1), (2, 63), (3, 301), (4, 350)]
            for b in ("immediate", "end_of_handler", "coalesce")}
    if counts != want:
        failures.append(f"dry run 1..4: layouts per core count and policy {counts}, "
                        f"expected {want}")
    if (out / "sweep.csv").exists():
        failures.append("dry run: wrote sweep.csv")
    dvm = sweep("systems/net-echo-dvm.json", "--cores", "1..2", "--dry-run", "--out",
                str(work / "dvm"), build=build)
    expect("dry run, driver VM", dvm, 0, "cores 2: all 63 layouts")
    if "net_vm/vcpu0" not in dvm.stdout:
        failures.append("dry run, driver VM: the vCPU is not among what is placed")

    # Block systems: their workload options, refused on a network system, and the plan.
    expect("--mix on the echo", sweep(system, "--mix", "read", "--dry-run", build=build), 1,
           "--mix: for block systems (clients running blk_bench)")
    expect("--block-size 1000", sweep("systems/blk-bench.json", "--block-size", "1000",
                                      build=build), 2, "must be 4096..1048576 bytes")
    blk_plan = sweep("systems/blk-bench.json", "--cores", "2", "--dry-run", "--out",
                     str(work / "blk"), build=build)
    expect("dry run, block", blk_plan, 0, "cores 2: all 7 layouts")

    # Another sweep holding the directory.
    held = out / ".lock"
    with open(held, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        expect("locked", sweep(system, "--cores", "2", "--dry-run", "--out", str(out),
                               build=build), 1, "is in use by another sweep")
    # A CSV that is not a sweep's.
    (out / "sweep.csv").write_text("layout,status\n")
    expect("foreign CSV", sweep(system, "--cores", "2", "--dry-run", "--out", str(out),
                                build=build), 1, "written with other columns")
    (out / "sweep.csv").unlink()
    (out / "sweep.json").write_text('{"system": "pingpong"}\n')
    expect("another system's directory", sweep(system, "--cores", "2", "--dry-run", "--out",
                                               str(out), build=build), 1,
           "holds a sweep of 'pingpong', not 'net-echo'")

    for failure in failures:
        print(f"FAIL {failure}")
    print(f"sweep_cli: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
