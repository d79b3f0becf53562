#!/usr/bin/env python3
"""experiments/blk/linux-baseline's command line, without QEMU: --help; every bad workload
option, core count, file and repeat count a usage error (status 2) that names it, before
anything is written; and a build without the guests a failed run (status 1) whose
summary.json says what is missing.

usage: linux_baseline_cli.py WORK_DIR"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "experiments/blk/linux-baseline"

BAD = [  # (arguments, what the message must say)
    (["--ios", "0"], "--ios: 0: must be at least 1"),
    (["--ios", "many"], "'many' is not a whole number"),
    (["--block-size", "4100"], "is not a multiple of the block size"),
    (["--block-size", "2048"], "must be 4096..1048576"),
    (["--block-size", "2097152"], "must be 4096..1048576"),
    (["--depth", "0"], "must be 1..256"),
    (["--depth", "257"], "must be 1..256"),
    (["--depth", "128"], "is more than its ring capacity (64)"),
    (["--depth", "16", "--block-size", "1048576"], "but its data region holds 4194304"),
    (["--pattern", "zigzag"], "invalid choice: 'zigzag'"),
    (["--mix", "100r"], "'100r': read, write, or Nr"),
    (["--cores", "0"], "--cores 0: must be 1..8"),
    (["--cores", "9"], "--cores 9: must be 1..8"),
    (["--repeat", "0"], "--repeat: 0: must be at least 1"),
    (["--timeout", "0"], "--timeout 0.0: must be positive"),
    (["--kernel", "/nonexistent/Image"], "--kernel /nonexistent/Image: no such file"),
    (["--initrd", "/nonexistent/initrd"], "--initrd /nonexistent/initrd: no such file"),
    (["--bogus"], "unrecognized arguments: --bogus"),
]


def run(args):
    return subprocess.run([sys.executable, str(TOOL)] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def main():
    work = Path(sys.argv[1])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    failures = []

    done = run(["--help"])
    if done.returncode != 0 or "--ios" not in done.stdout or "--repeat" not in done.stdout:
        failures.append(f"--help: status {done.returncode}, {done.stdout[:200]!r}")

    for args, message in BAD:
        out = work / "never"
        done = run(args + ["--out", str(out)])
        if done.returncode != 2 or message not in done.stderr:
            failures.append(f"{args}: status {done.returncode}, expected 2 and {message!r} in "
                            f"{done.stderr.strip()!r}")
        if out.exists():
            failures.append(f"{args}: wrote {out} though the options were refused")

    out = work / "no-build"
    done = run(["--ios", "10", "--build-dir", str(work / "empty-build"), "--out", str(out),
                "--quiet"])
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() \
        else {}
    if done.returncode != 1 or summary.get("status") != "failed" \
            or "not built" not in summary.get("reason", ""):
        failures.append(f"missing build: status {done.returncode}, summary {summary}, "
                        f"stderr {done.stderr.strip()!r}")

    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print(f"linux-baseline CLI: {len(BAD) + 2} cases, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
