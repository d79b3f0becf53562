#!/usr/bin/env python3
"""experiments/run --repeat as a user runs it.

usage: check_repeat_cli.py bad-input WORK_DIR
       check_repeat_cli.py runs BUILD_DIR WORK_DIR

bad-input (no QEMU): --repeat 0, negative or not a number, and an unknown --interval are
usage errors before anything runs (no output directory); a build without the tools fails
once, before any run.
runs (QEMU): systems/pingpong.json, which ends by itself in about a second, twice: run-1
and run-2 are complete run directories and OUT/summary.json combines them, --table shows
"median [low–high]" with N; --repeat 1 is a single run as without the option; Ctrl-C
during a run of systems/net-echo.json leaves the completed run and a combined summary
marked interrupted, and no QEMU behind."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "experiments/run"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(*args):
    return subprocess.run([sys.executable, str(RUN)] + [str(a) for a in args], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        failures.append(f"{path}: {err}")
        return {}


def bad_input(work):
    out = work / "never"
    for value, says in [("0", "argument --repeat: 0: must be at least 1"),
                        ("-2", "argument --repeat: -2: must be at least 1"),
                        ("two", "argument --repeat: 'two' is not a whole number")]:
        done = run("systems/pingpong.json", "--repeat", value, "--out", out)
        check(done.returncode == 2 and says in done.stderr,
              f"--repeat {value}: exit {done.returncode}, stderr {done.stderr[-300:]!r}")
    done = run("systems/pingpong.json", "--repeat", "3", "--interval", "mean", "--out", out)
    check(done.returncode == 2 and "invalid choice: 'mean'" in done.stderr,
          f"--interval mean: exit {done.returncode}, stderr {done.stderr[-300:]!r}")
    check(not out.exists(), f"{out} was created by a usage error")
    # Nothing built: said once, before any run.
    out = work / "not-built"
    done = run("systems/pingpong.json", "--repeat", "3", "--no-build", "--build-dir",
               work / "no-build", "--out", out)
    combined = load(out / "summary.json")
    check(done.returncode == 1 and "run: not built:" in done.stderr and
          combined.get("status") == "failed" and "not built" in combined.get("reason", "") and
          combined.get("repeat") == 3 and combined.get("runs") == [] and
          not (out / "run-1").exists(), f"not built: exit {done.returncode}, {combined}")
    done = run("--help")
    check(done.returncode == 0 and "--repeat N" in done.stdout and "1 - 2 * 0.5^N" in done.stdout,
          "--help does not describe --repeat")


def repeated(build, work):
    out = work / "pingpong-x2"
    done = run("systems/pingpong.json", "--repeat", "2", "--no-build", "--build-dir", build,
               "--out", out, "--table")
    check(done.returncode == 0, f"--repeat 2: exit {done.returncode}: {done.stderr[-2000:]}")
    for i in (1, 2):
        check(f"[run] run {i}/2 into {out / f'run-{i}'}" in done.stderr,
              f"no progress line for run {i}: {done.stderr[-1000:]!r}")
    runs = []
    for i in (1, 2):
        run_dir = out / f"run-{i}"
        for name in ("console.log", "counts.json", "manifest.json", "summary.json"):
            check((run_dir / name).exists(), f"{run_dir}: no {name}")
        summary = load(run_dir / "summary.json")
        runs.append(summary)
        check(summary.get("status") == "ok", f"{run_dir}: {summary.get('status')} "
              f"{summary.get('reason')}")
        check(f"--out={run_dir}" in summary.get("command", "") and
              "--repeat" not in summary.get("command", ""),
              f"{run_dir}: command {summary.get('command')!r}")
        check("repeat" not in summary, f"{run_dir}: a single run's summary expected")
    combined = load(out / "summary.json")
    check(combined.get("status") == "ok", f"combined: {combined.get('reason')}")
    check(combined.get("repeat") == 2, f"combined repeat {combined.get('repeat')}")
    check(combined.get("runs") == [str(out / "run-1"), str(out / "run-2")],
          f"combined runs {combined.get('runs')}")
    check(combined.get("failed_runs") == [], f"failed runs {combined.get('failed_runs')}")
    check("--repeat 2" in combined.get("command", ""), f"command {combined.get('command')!r}")
    check((combined.get("system"), combined.get("cores")) == ("pingpong", 1),
          f"system {combined.get('system')}, cores {combined.get('cores')}")
    # pingpong has no packets: no per_io, but the whole run's figures are combined.
    check(combined.get("per_io") is None and combined.get("per_io_runs") == [None, None],
          "pingpong has no per_io")
    interval = combined.get("interval", {})
    check(interval.get("method") == "minmax" and interval.get("n") == 2 and
          interval.get("coverage") == 0.5, f"interval {interval}")
    if runs and all(runs) and combined.get("total"):
        ping = combined["total"]["pds"]["ping"]["instructions"]["total"]
        values = [r["total"]["pds"]["ping"]["instructions"]["total"] for r in runs]
        check(ping.get("values") == values and ping.get("n") == 2,
              f"ping's instructions {ping}, runs {values}")
        # One core: the counts are exact, the same in both runs.
        check(ping.get("low") == ping.get("high") == ping.get("median") == values[0],
              f"one-core pingpong not repeatable: {ping}")
        check(combined["median"]["total"] == runs[0]["total"],
              "the median document differs from the (identical) runs")
        check(combined["phases"]["1"]["events"]["notify_same_core"]["median"] ==
              runs[0]["phases"]["1"]["events"]["notify_same_core"], "phase 1 events")
    table = done.stdout
    check("N = 2 runs; each figure is median [lowest–highest] of the runs" in table,
          f"--table: no line stating N: {table[:400]!r}")
    check("pingpong on 1 core(s), whole run" in table and "ping " in table and
          "[" in table.split("\n", 3)[-1], f"--table: {table[:1200]!r}")
    check(table.rstrip().endswith(str(out / "summary.json")), "the summary's path last")

    single = work / "pingpong-x1"
    done = run("systems/pingpong.json", "--repeat", "1", "--no-build", "--build-dir", build,
               "--out", single)
    summary = load(single / "summary.json")
    check(done.returncode == 0 and summary.get("status") == "ok" and "repeat" not in summary
          and not (single / "run-1").exists() and (single / "counts.json").exists(),
          f"--repeat 1 is not a single run: {done.stderr[-500:]}")


def interrupted(build, work):
    """Ctrl-C while the second run is under way (net-echo without packets keeps running)."""
    out = work / "net-echo-interrupted"
    proc = subprocess.Popen([sys.executable, str(RUN), "systems/net-echo.json", "--repeat", "3",
                             "--stop-after", "3", "--no-build", "--build-dir", str(build),
                             "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "run-2" / "console.log").exists():
            break
        time.sleep(0.1)
    check(proc.poll() is None, "experiments/run ended before run 2")
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        failures.append("Ctrl-C: experiments/run did not end within 60 s")
    check(proc.returncode == 130, f"Ctrl-C: exit {proc.returncode}: {err[-1000:]}")
    check("run: interrupted" in err, f"Ctrl-C: no message: {err[-500:]!r}")
    combined = load(out / "summary.json")
    check(combined.get("status") == "failed" and combined.get("interrupted") is True and
          "interrupted" in combined.get("reason", ""), f"combined after Ctrl-C: {combined}")
    check(combined.get("runs") == [str(out / "run-1"), str(out / "run-2")],
          f"runs after Ctrl-C: {combined.get('runs')}")
    check(load(out / "run-1" / "summary.json").get("status") == "ok", "run 1 not ok")
    check(load(out / "run-2" / "summary.json").get("status") == "failed", "run 2 not failed")
    check(not (out / "run-3").exists(), "run 3 started after Ctrl-C")
    check(combined.get("total", {}).get("cores", [{}])[0].get("instructions", {})
          .get("total", {}).get("n") == 1, "run 1 not combined after Ctrl-C")
    # No QEMU of this run left behind (pgrep only looks).
    image = str(out / "run-2" / "image.elf")
    left = subprocess.run(["pgrep", "-f", image], stdout=subprocess.PIPE, text=True)
    check(left.stdout.strip() == "", f"QEMU still running after Ctrl-C: {left.stdout}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "bad-input":
        work = Path(sys.argv[2])
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        bad_input(work)
    elif len(sys.argv) == 4 and sys.argv[1] == "runs":
        build, work = Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve()
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        repeated(build, work)
        interrupted(build, work)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if not failures:
        print("ok", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
