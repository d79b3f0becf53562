"""
Unit tests of experiments/lib/pinionexp/blk.py, what experiments/run does for block
systems around a run: the options as parameters of the benchmark clients, the checks of
a workload against its description before anything runs, the QEMU options of a disk,
and what the summary gets after a run (per request and per KiB, the disk check) and
when it is failed.
"""
import argparse
import copy
import json
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments/lib"))
from pinionexp import blk, runner  # noqa: E402

DESCRIPTION = json.loads((REPO / "systems/blk-bench.json").read_text())
IOS = 1000


def options(**given):
    fields = {option: None for option in blk.OPTION_PARAMS}
    fields.update(given)
    return argparse.Namespace(**fields)


def with_params(**params):
    doc = copy.deepcopy(DESCRIPTION)
    for pd in doc["components"]:
        if pd["program"] == blk.BENCH_PROGRAM:
            pd["params"].update(params)
    return doc


def run_summary(counters=None):
    """A run's summary as summary.build leaves it: phase 1 of 2,000 requests' work."""
    sound = {"done": 1, "requests": IOS, "read_bytes": IOS * 4096 * 7 // 10,
             "written_bytes": IOS * 4096 * 3 // 10, "bad_sent": 0, "bad_refused": 0}
    sound.update({key: 0 for key in blk.MUST_BE_ZERO})
    pd_counters = {"client0": dict(sound), "client1": dict(sound)}
    for name, changes in (counters or {}).items():
        pd_counters[name].update(changes)
    instructions = {"user": 8_000_000, "kernel": 2_000_000, "total": 10_000_000}
    return {"status": "ok", "pd_counters": pd_counters,
            "phases": {"1": {"pds": {"client0": {"instructions": instructions}},
                             "vms": {},
                             "cores": [{"core": 0, "instructions": instructions,
                                        "kernel_idle": instructions, "events": {}}],
                             "kernel_instructions": 2_000_000, "events": {}}}}


def disk_report(ok=True, bad_blocks=0, changed=0):
    first = {"block": 4100, "verdict": "torn", "expected_generation": 3} if bad_blocks else None
    partition = {"client": "client0", "checked": True, "bad_blocks": bad_blocks,
                 "first_bad": first}
    return {"disk0": {"ok": ok, "partitions": [partition],
                      "outside": {"changed_bytes": changed,
                                  "first_changed": 100 if changed else None}}}


class Options(unittest.TestCase):
    def test_options_become_every_clients_parameters(self):
        settings = blk.settings(DESCRIPTION, options(ios=500, block_size=65536, mix="70r"))
        self.assertEqual(sorted(settings), sorted([
            "client0.ios=500", "client0.io_size=65536", "client0.mix=70r",
            "client1.ios=500", "client1.io_size=65536", "client1.mix=70r"]))
        self.assertEqual(blk.settings(DESCRIPTION, options()), [])

    def test_options_without_benchmark_clients(self):
        pingpong = json.loads((REPO / "systems/pingpong.json").read_text())
        with self.assertRaisesRegex(ValueError, r"^--depth: for block systems"):
            blk.settings(pingpong, options(depth=4))
        self.assertEqual(blk.settings(pingpong, options()), [])

    def test_mix_values(self):
        for good in ("read", "write", "1r", "70r", "99r"):
            self.assertEqual(blk.mix_type(good), good)
        for bad in ("0r", "100r", "07r", "70", "r", "READ", "70 r"):
            with self.assertRaises(argparse.ArgumentTypeError):
                blk.mix_type(bad)

    def test_sizes_as_descriptions_write_them(self):
        self.assertEqual(blk.parse_size("16MiB"), 16 << 20)
        self.assertEqual(blk.parse_size("64K"), 65536)
        self.assertEqual(blk.parse_size("0x1000"), 4096)
        self.assertEqual(blk.parse_size(8192), 8192)
        for bad in ("16MB", "1.5MiB", True, None, "0x"):
            self.assertIsNone(blk.parse_size(bad))


class Plans(unittest.TestCase):
    def test_the_description_as_it_is_can_run(self):
        self.assertEqual(blk.check_plans(DESCRIPTION), [])

    def test_every_mistake_named(self):
        cases = [
            (dict(io_size=6000), "client0: io_size 6000 (--block-size) is not a multiple of the "
                                 "block size of disk disk0 (512)"),
            (dict(depth=65), "client0: depth 65 (--depth) is more than its ring capacity (64)"),
            (dict(io_size=1 << 20, depth=8), "client0: depth 8 times io_size 1048576 is 8388608 "
                                             "bytes in flight, but its data region holds "
                                             "4194304"),
            (dict(depth="many"), "client0: io_size and depth must be whole numbers"),
        ]
        for params, says in cases:
            problems = blk.check_plans(with_params(**params))
            self.assertTrue(problems[0].startswith(says), problems)
            self.assertEqual(len(problems), 2, problems)  # one for each client

    def test_partition_limits(self):
        doc = with_params(io_size=4096)
        doc["devices"][0]["partitions"][0]["size"] = "2KiB"
        doc["devices"][0]["partitions"][1]["size"] = "512MiB"
        problems = blk.check_plans(doc)
        self.assertIn("client0: io_size 4096 (--block-size) is larger than its partition "
                      "(2048 bytes)", problems)
        self.assertIn("client1: its partition holds 131072 requests of io_size 4096; at most "
                      "65536 (a larger --block-size)", problems)
        doc["devices"][0]["partitions"].pop()
        self.assertIn("client1: runs blk_bench but has no partition of a disk",
                      blk.check_plans(doc))


class Disks(unittest.TestCase):
    def test_qemu_options_of_a_disk(self):
        manifest = {"devices": [{"name": "disk0", "kind": "virtio-blk", "slot": 31,
                                 "size": 1 << 20, "block_size": 4096}]}
        args, nets, disks = runner.device_args(manifest, "/tmp/run,1")
        self.assertEqual(nets, [])
        self.assertEqual([d.name for d in disks], ["disk0"])
        self.assertEqual(args, ["-global", "virtio-mmio.force-legacy=false",
                                "-drive", "if=none,id=disk0,file=/tmp/run,,1/disk0.img,format=raw",
                                "-device", "virtio-blk-device,drive=disk0,logical_block_size=4096,"
                                "physical_block_size=4096"])


class Finish(unittest.TestCase):
    def finish(self, counters=None, disks=None):
        doc = run_summary(counters)
        blk.finish(doc, with_params(ios=IOS), ["client0", "client1"], disks or disk_report())
        return doc

    def test_a_sound_run(self):
        doc = self.finish()
        self.assertEqual(doc["status"], "ok")
        self.assertEqual(doc["per_io"]["ios"], 2 * IOS)
        self.assertEqual(doc["per_io"]["all_instructions"], 5000)
        self.assertEqual(doc["per_kib"]["kib"], 2 * IOS * 4)
        self.assertEqual(doc["per_kib"]["all_instructions"], 1250)
        self.assertNotIn("ios", doc["per_kib"])
        self.assertEqual(doc["blk"], {"clients": 2, "requests": 2 * IOS,
                                      "bytes": 2 * IOS * 4096, "io_size": 4096, "depth": 16,
                                      "pattern": "rand", "mix": "70r"})
        self.assertTrue(doc["disk_check"]["disk0"]["ok"])

    def test_what_fails_a_run(self):
        cases = [
            ({"client1": {"done": 0}}, None, "client1 did not finish"),
            ({"client0": {"requests": IOS - 1}}, None, f"client0 completed {IOS - 1} of {IOS}"),
            ({"client0": {"blocks_torn": 2}}, None, "client0: {'blocks_torn': 2}"),
            ({"client1": {"unexpected_responses": 1}}, None, "client1: {'unexpected_responses'"),
            ({"client0": {"bad_sent": 5, "bad_refused": 4}}, None,
             "client0: 4 of its 5 malformed requests refused"),
            (None, disk_report(ok=False, bad_blocks=3),
             "disk 'disk0': 3 block(s) of client0's partition do not hold what it wrote "
             "(first: block 4100, torn, expected generation 3)"),
            (None, disk_report(ok=False, changed=7),
             "disk 'disk0': 7 byte(s) outside every partition changed (first at byte 100)"),
            (None, {"disk0": {"ok": False, "error": "disk0.img: cannot open"}},
             "disk 'disk0': disk0.img: cannot open"),
        ]
        for counters, disks, says in cases:
            doc = self.finish(counters, disks)
            self.assertEqual(doc["status"], "failed", says)
            self.assertIn(says, doc["reason"])

    def test_an_earlier_failure_keeps_its_reason(self):
        doc = run_summary({"client0": {"done": 0}})
        doc.update(status="failed", reason="the kernel did not end the run")
        blk.finish(doc, with_params(ios=IOS), ["client0", "client1"], disk_report())
        self.assertEqual(doc["reason"], "the kernel did not end the run")


if __name__ == "__main__":
    unittest.main()
