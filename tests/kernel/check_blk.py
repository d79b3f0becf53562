#!/usr/bin/env python3
"""
End-to-end tests of the native storage path (docs/blk.md): systems/blk-bench.json on
pinion's kernel in QEMU through experiments/run, the virtio-blk driver, the virtualiser
and two benchmark clients over two partitions of one disk, each disk image checked from
the host after the run. On 1, 2 and 4 cores, sequential and random, reads, writes and a
mix; then a client that makes malformed requests while the virtualiser's test mode sends
the driver malformed ones of its own: every one refused, the other client unaffected, the
disk intact, and the kept image's check failing once a block of it is damaged.

usage: check_blk.py BUILD_DIR WORK_DIR TEST
       check_blk.py --bad-input WORK_DIR
tests: blk-1core-rand-70r blk-2core-seq-read blk-2core-rand-write blk-4core-seq-64k
       blk-bad-requests
--bad-input (no QEMU): experiments/run's block options with bad values, and block
options on a system without block clients, are usage errors before anything runs.
"""

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_kernel import REPO, Failure, check, run, run_named_test, system_variant  # noqa: E402

SYSTEM = "systems/blk-bench.json"
CLIENTS = ("client0", "client1")
MUST_BE_ZERO = ("blocks_lost", "blocks_torn", "blocks_misplaced", "blocks_corrupt",
                "error_responses", "unexpected_responses", "ring_errors")
PARTITION_BLOCKS = 32768  # 16 MiB of 512-byte blocks each


def placement(cores):
    return f"systems/placements/blk-bench-{cores}core.json"


def options(ios, size, depth, pattern, mix):
    return ["--ios", str(ios), "--block-size", str(size), "--depth", str(depth),
            "--pattern", pattern, "--mix", mix]


def check_client(s, name, ios, size, mix):
    c = s["pd_counters"][name]
    check(c.get("done") == 1 and c.get("requests") == ios,
          f"{name}: done {c.get('done')}, {c.get('requests')} of {ios} requests")
    bad = {k: c.get(k) for k in MUST_BE_ZERO if c.get(k)}
    check(not bad, f"{name}: {bad}")
    moved = c["read_bytes"] + c["written_bytes"]
    check(moved == ios * size, f"{name}: {moved} bytes moved, expected {ios * size}")
    if mix == "read":
        check(c["written_bytes"] == 0, f"{name} wrote {c['written_bytes']} bytes on 'read'")
    elif mix == "write":
        check(c["read_bytes"] == 0, f"{name} read {c['read_bytes']} bytes on 'write'")
    else:
        check(c["read_bytes"] > 0 and c["written_bytes"] > 0, f"{name}: {mix} did not mix")
    check(c["blocks_checked"] == c["read_bytes"] // 512,
          f"{name}: {c['blocks_checked']} blocks checked of {c['read_bytes'] // 512} read")


def check_disk(s, clients_written):
    report = s["disk_check"]["disk0"]
    check(report["ok"], f"disk check failed: {json.dumps(report)[:600]}")
    for partition in report["partitions"]:
        check(partition["checked"] and partition["bad_blocks"] == 0
              and partition["blocks"] == PARTITION_BLOCKS, f"partition: {partition}")
        if partition["client"] in clients_written:
            check(partition["chunks_written"] > 0, f"{partition['client']} wrote nothing")
    check(report["outside"]["bytes"] == 8 << 20 and report["outside"]["changed_bytes"] == 0,
          f"outside the partitions: {report['outside']}")


def check_path(s):
    driver, virt = s["pd_counters"]["blk_driver"], s["pd_counters"]["blk_virt"]
    for key in ("eio", "unsupported", "bad_used_entry", "ring_errors"):
        check(driver.get(key) == 0, f"blk_driver {key} = {driver.get(key)}")
    for key in ("bad_driver_response", "client_ring_errors", "driver_ring_errors"):
        check(virt.get(key) == 0, f"blk_virt {key} = {virt.get(key)}")
    check(driver["flushes"] == len(CLIENTS), f"{driver['flushes']} flushes, one per client")
    check(not s["faults"], f"faults: {s['faults']}")


def bench(build, work, name, cores, ios, size, depth, pattern, mix):
    s, console = run(build, work, name, SYSTEM, placement(cores),
                     extra=options(ios, size, depth, pattern, mix))
    check("blk_driver: virtio-blk up:" in console, "the driver did not come up")
    for client in CLIENTS:
        check_client(s, client, ios, size, mix)
    check_path(s)
    check_disk(s, CLIENTS if mix != "read" else ())
    check(not (Path(work) / name / "disk0.img").exists(), "the disk image was not removed")
    per_io, per_kib = s["per_io"], s["per_kib"]
    check(per_io["ios"] == 2 * ios and per_kib["kib"] == 2 * ios * size / 1024,
          f"per_io over {per_io['ios']} requests, per_kib over {per_kib['kib']} KiB")
    for pd in ("blk_driver", "blk_virt") + CLIENTS:
        check(per_io["pds"][pd]["total"] > 0, f"no instructions counted in {pd} in phase 1")
    return (f"{2 * ios} requests of {size} bytes ({pattern}, {mix}, depth {depth}) on {cores} "
            f"core(s), disk intact; {per_io['all_instructions']:,.0f} instructions per request")


def damaged_image_fails(build, image, system):
    """The kept image passes pinion-blkimage's check, and fails it once a block is torn."""
    tool = [str(Path(build) / "tools/blkimage/pinion-blkimage"), "verify", str(system), "disk0",
            str(image)]
    done = subprocess.run(tool, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(done.returncode == 0, f"the kept image fails its check: {done.stdout[-400:]}")
    with open(image, "r+b") as f:
        f.seek((40960 + 100) * 512 + 256)  # client1's partition, block 100, mid-block
        f.write(b"\xff" * 8)
    done = subprocess.run(tool, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    report = json.loads(done.stdout)
    check(done.returncode == 1 and not report["ok"], "a torn block passed the check")
    first = report["partitions"][1]["first_bad"]
    check(first["block"] == 40960 + 100 and first["verdict"] == "torn",
          f"first bad block: {first}")


def bad_requests(build, work):
    ios = 2000
    s, _ = run(build, work, "blk-bad-requests", SYSTEM, placement(2),
               extra=options(ios, 4096, 16, "rand", "70r")
               + ["--set", "client0.bad_every=20", "--set", "blk_virt.inject_bad_every=25",
                  "--keep"])
    c0, virt = s["pd_counters"]["client0"], s["pd_counters"]["blk_virt"]
    driver = s["pd_counters"]["blk_driver"]
    sent = (ios - 1) // 20
    check(c0["bad_sent"] == sent and c0["bad_refused"] == sent,
          f"client0 sent {c0['bad_sent']} malformed requests, {c0['bad_refused']} refused; "
          f"expected {sent}")
    check(virt["einval"] == sent, f"blk_virt refused {virt['einval']}, expected {sent}")
    injected = virt["injected_bad"]
    check(injected >= 2 * ios // 25 - 2, f"blk_virt injected only {injected}")
    check(virt["injected_refused"] == injected and driver["einval"] == injected,
          f"{injected} injected, {virt['injected_refused']} refused, driver einval "
          f"{driver['einval']}")
    for client in CLIENTS:
        check_client(s, client, ios, 4096, "70r")
    check_path(s)
    check_disk(s, CLIENTS)
    image = Path(work) / "blk-bad-requests" / "disk0.img"
    check(image.exists() and image.stat().st_size == 40 << 20, "--keep did not keep the image")
    damaged_image_fails(build, image, Path(work) / "blk-bad-requests" / "system.json")
    return (f"{sent} malformed requests from client0 and {injected} from the virtualiser "
            "refused; client1 unaffected; the disk intact, and a torn block found in it")


def bad_input(work):
    """Every bad block option is a usage error before anything runs, naming the problem."""
    work = Path(work)
    out = work / "never"
    four_k_disk = system_variant(work, "blk-4k", SYSTEM,
                                 lambda d: d["devices"][0].update(block_size=4096))
    cases = [
        (["--ios", "0"], "argument --ios: 0: must be at least 1"),
        (["--block-size", "1000"], "argument --block-size: 1000: must be 4096..1048576 bytes"),
        (["--block-size", "4k"], "argument --block-size: '4k' is not a whole number of bytes"),
        (["--depth", "0"], "argument --depth: 0: must be 1..256"),
        (["--depth", "300"], "argument --depth: 300: must be 1..256"),
        (["--pattern", "zigzag"], "argument --pattern: invalid choice: 'zigzag'"),
        (["--mix", "70"], "argument --mix: '70': read, write, or Nr"),
        (["--mix", "100r"], "argument --mix: '100r': read, write, or Nr"),
        (["--depth", "128"], "client0: depth 128 (--depth) is more than its ring capacity (64)"),
        (["--block-size", "1048576", "--depth", "16"],
         "client0: depth 16 times io_size 1048576 is 16777216 bytes in flight, but its data "
         "region holds 4194304"),
        (["--set", "client1.io_size=6000"],
         "client1: io_size 6000 (--block-size) is not a multiple of the block size of disk "
         "disk0 (512)"),
    ]
    failures = []
    for args, says in cases:
        done = subprocess.run([sys.executable, str(REPO / "experiments/run"), str(REPO / SYSTEM),
                               "--out", str(out)] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        if done.returncode != 2 or says not in done.stderr:
            failures.append(f"{args}: exit {done.returncode}, stderr {done.stderr[-300:]!r}")
    for system, args, says in [
            (four_k_disk, ["--block-size", "6144"],
             "client0: io_size 6144 (--block-size) is not a multiple of the block size of disk "
             "disk0 (4096)"),
            (REPO / "systems/pingpong.json", ["--ios", "10", "--mix", "read"],
             "--ios, --mix: for block systems, whose clients run blk_bench; this description "
             "has none"),
            (REPO / SYSTEM, ["--packets", "100"],
             "--packets: for network systems; the clients of")]:
        done = subprocess.run([sys.executable, str(REPO / "experiments/run"), str(system),
                               "--out", str(out)] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        if done.returncode != 2 or says not in done.stderr:
            failures.append(f"{system.name} {args}: exit {done.returncode}, "
                            f"stderr {done.stderr[-300:]!r}")
    if out.exists():
        failures.append(f"{out} was created by a usage error")
    if failures:
        raise Failure("; ".join(failures))
    return f"{len(cases) + 3} bad block options refused before anything ran"


def all_tests(build, work):
    return {
        "blk-1core-rand-70r": lambda: bench(build, work, "blk-1core-rand-70r", 1, 2000, 4096,
                                            16, "rand", "70r"),
        "blk-2core-seq-read": lambda: bench(build, work, "blk-2core-seq-read", 2, 2000, 4096,
                                            8, "seq", "read"),
        "blk-2core-rand-write": lambda: bench(build, work, "blk-2core-rand-write", 2, 2000,
                                              16384, 16, "rand", "write"),
        "blk-4core-seq-64k": lambda: bench(build, work, "blk-4core-seq-64k", 4, 500, 65536, 4,
                                           "seq", "70r"),
        "blk-bad-requests": lambda: bad_requests(build, work),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bad-input":
        try:
            print(f"ok: {bad_input(sys.argv[2])}")
        except Failure as err:
            print(f"FAIL: {err}", file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    sys.exit(run_named_test(__doc__, all_tests))
