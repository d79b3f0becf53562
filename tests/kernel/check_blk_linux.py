#!/usr/bin/env python3
"""
End-to-end test of the storage benchmark's native-Linux baseline (docs/blk-dvm.md,
"Native Linux"): experiments/blk/linux-baseline boots the guest kernel directly on QEMU
with the benchmark's disk, blk-bench runs both clients' plans through Linux AIO on
/dev/vda, and the disk image is checked from the host as after pinion's runs. 1,000
random 4 KiB requests per client, 70% reads, 16 in flight each: every request answered,
every read checked, nothing bad, the partitions intact and the gaps zero, the image
removed, and phase 1 counted (guest kernel and user space).

usage: check_blk_linux.py BUILD_DIR WORK_DIR TEST
tests: blk-linux-rand-70r
"""

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_blk import check_disk  # noqa: E402
from check_kernel import REPO, check, run_named_test  # noqa: E402

TOOL = REPO / "experiments/blk/linux-baseline"


def baseline(build, work, name, ios, size, depth, pattern, mix):
    out = Path(work) / name
    cmd = [sys.executable, str(TOOL), "--ios", str(ios), "--block-size", str(size), "--depth",
           str(depth), "--pattern", pattern, "--mix", mix, "--build-dir", build,
           "--out", str(out), "--timeout", "300", "--quiet"]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=400)
    summary_path = out / "summary.json"
    check(summary_path.exists(), f"no summary.json: {done.stdout[-2000:]}")
    s = json.loads(summary_path.read_text())
    check(done.returncode == 0 and s["status"] == "ok",
          f"status {done.returncode}, {s.get('reason')}: {done.stdout[-2000:]}")
    return s, out


def rand_70r(build, work):
    ios, size = 1000, 4096
    s, out = baseline(build, work, "blk-linux-rand-70r", ios, size, 16, "rand", "70r")
    bench = s["bench"]
    check(bench["requests"] == 2 * ios and bench["reads"] + bench["writes"] == 2 * ios,
          f"counts: {bench}")
    check(bench["bytes"] == 2 * ios * size, f"{bench['bytes']} bytes moved")
    check(bench["reads"] > 0 and bench["writes"] > 0, f"70r did not mix: {bench}")
    check(bench["blocks_checked"] == bench["read_bytes"] // 512, f"blocks checked: {bench}")
    for client in bench["clients"]:
        check(client["requests"] == ios and client["bad_blocks"] == 0
              and client["errors"] == 0, f"client: {client}")
    check(s["bench_exit_status"] == 0, f"blk-bench exited {s['bench_exit_status']}")
    check_disk(s, ("client0", "client1"))
    for partition in s["disk_check"]["disk0"]["partitions"]:
        check(partition["requests_replayed"] == ios, f"replayed: {partition}")
    check(not (out / "disk0.img").exists(), "the disk image was not removed")
    system = json.loads((out / "system.json").read_text())
    params = [pd["params"] for pd in system["components"] if pd["name"].startswith("client")]
    check(all(p["ios"] == ios and p["io_size"] == size for p in params),
          f"system.json's clients: {params}")
    per_io = s["per_io"]
    check(per_io["ios"] == 2 * ios and per_io["phase"] == 1, f"per_io: {per_io}")
    # The kernel serves every request; user space fills and checks every block.
    check(per_io["guest_kernel"] > 500 and per_io["guest_user"] > 500, f"per_io: {per_io}")
    check(s["per_kib"]["kib"] == 2 * ios * size / 1024, f"per_kib: {s['per_kib']}")
    return (f"{2 * ios} requests of {size} bytes on native Linux, disk intact; "
            f"{per_io['all_instructions']:,.0f} instructions per request "
            f"({per_io['guest_kernel']:,.0f} guest kernel)")


def all_tests(build, work):
    return {"blk-linux-rand-70r": lambda: rand_70r(build, work)}


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
