#!/usr/bin/env python3
"""Unit tests of repeated runs (experiments/lib/pinionexp/repeat.py and repeat_runs.py):
figures combined leaf by leaf, intervals, formatting, the tables of a combined summary,
the combined summary itself, and the repeat loop with a stand-in for experiments/run
(failures, a run without a summary, Ctrl-C and SIGTERM). Host only, no QEMU:
python3 -m unittest discover -s tests/repeat"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments/lib"))
from pinionexp import repeat, repeat_runs, table  # noqa: E402


def per_io(all_instructions, core0, core1, sgis=0.05):
    """A made-up run's per_io, in experiments/run's shape."""
    return {"ios": 2000, "phase": 1,
            "pds": {"driver": {"user": core0 - 40, "kernel": 40, "total": core0},
                    "client": {"user": core1 - 10, "kernel": 10, "total": core1}},
            "vms": {},
            "cores": [{"core": 0, "instructions": {"total": core0}, "kernel_idle": {"total": 15},
                       "events": {"sgi_sent": sgis, "notify_cross_core": 0.09}},
                      {"core": 1, "instructions": {"total": core1}, "kernel_idle": {"total": 6},
                       "events": {"sgi_sent": sgis, "wakeups": 0.1}}],
            "kernel_instructions": 55.5, "all_instructions": all_instructions,
            "events": {"sgi_sent": 2 * sgis}}


class Aggregate(unittest.TestCase):
    def test_odd_number_of_runs(self):
        got = repeat.aggregate([{"x": 3}, {"x": 1}, {"x": 2}])
        self.assertEqual(got, {"x": {"median": 2, "low": 1, "high": 3, "n": 3,
                                     "values": [3, 1, 2]}})

    def test_even_number_of_runs(self):
        self.assertEqual(repeat.aggregate([1, 2, 3, 4])["median"], 2.5)
        # A whole number stays one: a core number is 0, not 0.0.
        self.assertEqual(repeat.aggregate([2, 4])["median"], 3)
        self.assertIsInstance(repeat.aggregate([2, 4])["median"], int)
        self.assertIsInstance(repeat.aggregate([0, 0])["median"], int)
        self.assertEqual(repeat.aggregate([1.5, 2.5]), {"median": 2.0, "low": 1.5, "high": 2.5,
                                                        "n": 2, "values": [1.5, 2.5]})

    def test_one_run(self):
        got = repeat.aggregate([{"a": [5, 6.5], "name": "x"}])
        self.assertEqual(got["a"][1], {"median": 6.5, "low": 6.5, "high": 6.5, "n": 1,
                                       "values": [6.5]})
        self.assertEqual(got["name"], "x")
        self.assertEqual(repeat.pick(got), {"a": [5, 6.5], "name": "x"})

    def test_missing_keys(self):
        got = repeat.aggregate([{"a": 1, "b": 2}, {"a": 3}, {"a": 5, "b": 4, "c": 9}])
        self.assertEqual(list(got), ["a", "b", "c"])
        self.assertEqual(got["b"], {"median": 3, "low": 2, "high": 4, "n": 2,
                                    "values": [2, None, 4]})
        self.assertEqual(got["c"]["n"], 1)
        self.assertEqual(got["c"]["values"], [None, None, 9])
        self.assertEqual(repeat.format_interval(got["b"], runs=3), "3 [2–4] (n=2)")

    def test_none_values(self):
        got = repeat.aggregate([{"x": None, "y": None}, {"x": 4, "y": None}, {"x": 6}])
        self.assertEqual(got["x"], {"median": 5, "low": 4, "high": 6, "n": 2,
                                    "values": [None, 4, 6]})
        self.assertIsNone(got["y"])
        # A section that one run lacks (None) beside the others' dicts.
        got = repeat.aggregate([{"per_io": None}, {"per_io": {"all": 10}},
                                {"per_io": {"all": 20}}])
        self.assertEqual(got["per_io"]["all"]["values"], [None, 10, 20])
        # A run without a document at all (a failed run): its values are None.
        got = repeat.aggregate([{"x": 1}, None, {"x": 3}])
        self.assertEqual(got["x"]["values"], [1, None, 3])
        self.assertIsNone(repeat.aggregate([None, None]))
        self.assertIsNone(repeat.aggregate([]))

    def test_lists(self):
        runs = [{"cores": [{"core": 0, "ipp": 800}, {"core": 1, "ipp": 600}]},
                {"cores": [{"core": 0, "ipp": 820}, {"core": 1, "ipp": 640}]},
                {"cores": [{"core": 0, "ipp": 810}, {"core": 1, "ipp": 620}]}]
        got = repeat.aggregate(runs)
        self.assertEqual(len(got["cores"]), 2)
        self.assertEqual(got["cores"][1]["ipp"]["median"], 620)
        self.assertEqual(got["cores"][0]["core"]["low"], 0)
        # Per-core lists of unequal length (runs on different core counts) are not combined.
        runs[2]["cores"].append({"core": 2, "ipp": 5})
        got = repeat.aggregate(runs)
        self.assertTrue(repeat.is_differs(got["cores"]))
        self.assertEqual(got["cores"]["differs"], [r["cores"] for r in runs])
        self.assertEqual(repeat.pick(got)["cores"], runs[0]["cores"])
        # Nested lists of one length each, lists missing in one run.
        got = repeat.aggregate([{"m": [[1, 2], [3]]}, {"m": [[3, 4], [5]]}, {}])
        self.assertEqual(got["m"][0][1]["values"], [2, 4, None])
        self.assertEqual(got["m"][1][0]["median"], 4)

    def test_non_numeric_leaves(self):
        got = repeat.aggregate([{"s": "a", "b": True, "m": 1, "t": "x"},
                                {"s": "a", "b": True, "m": "one", "t": "y"},
                                {"s": "a", "b": False, "m": 1, "t": "y"}])
        self.assertEqual(got["s"], "a")
        self.assertEqual(got["b"], {"differs": [True, True, False]})
        self.assertEqual(got["m"], {"differs": [1, "one", 1]})
        self.assertEqual(got["t"], {"differs": ["x", "y", "y"]})
        picked = repeat.pick(got)
        self.assertEqual(picked, {"s": "a", "b": True, "m": 1, "t": "y"})
        # Booleans are not numbers, even equal ones.
        self.assertEqual(repeat.aggregate([{"ok": True}, {"ok": True}]), {"ok": True})
        # NaN is no figure either.
        self.assertTrue(repeat.is_differs(repeat.aggregate([1.0, float("nan")])))

    def test_pick(self):
        runs = [per_io(1500, 830, 670), per_io(1530, 845, 685, 0.06), per_io(1510, 840, 670)]
        got = repeat.aggregate(runs)
        median = repeat.pick(got)
        self.assertEqual(median["all_instructions"], 1510)
        self.assertEqual(repeat.pick(got, "low")["cores"][0]["instructions"]["total"], 830)
        self.assertEqual(repeat.pick(got, "high")["cores"][1]["events"]["sgi_sent"], 0.06)
        # The median document has a single run's shape: the same keys everywhere.
        def shape(doc):
            if isinstance(doc, dict):
                return {k: shape(v) for k, v in doc.items()}
            if isinstance(doc, list):
                return [shape(v) for v in doc]
            return type(doc).__name__ in ("int", "float")
        self.assertEqual(shape(median), shape(runs[0]))
        # Identical runs give the run back.
        self.assertEqual(repeat.pick(repeat.aggregate([runs[0]] * 4)), runs[0])
        with self.assertRaises(ValueError):
            repeat.pick(got, "mean")


class Intervals(unittest.TestCase):
    VALUES = [1500, 1512, 1490, 1533, 1501, 1560, 1497]

    def test_coverage(self):
        self.assertEqual(repeat.minmax_coverage(5), 0.9375)
        self.assertEqual(repeat.minmax_coverage(7), 0.984375)
        self.assertEqual(repeat.minmax_coverage(1), 0.0)
        text = repeat.Interval().describe(5)
        self.assertIn("N = 5 runs", text)
        self.assertIn("93.8%", text)
        self.assertIn("median [lowest–highest]", text)
        self.assertIn("no interval", repeat.Interval().describe(1))
        doc = repeat.Interval().to_json(7)
        self.assertEqual((doc["method"], doc["n"], doc["coverage"]), ("minmax", 7, 0.984375))

    def test_bootstrap_is_deterministic(self):
        boot = repeat.Interval(repeat.BOOTSTRAP)
        first = repeat.aggregate([{"x": v} for v in self.VALUES], boot)["x"]
        again = repeat.aggregate([{"x": v} for v in self.VALUES], boot)["x"]
        self.assertEqual(first, again)
        self.assertEqual(first["median"], 1501)
        self.assertLessEqual(min(self.VALUES), first["low"])
        self.assertLessEqual(first["low"], first["median"])
        self.assertLessEqual(first["median"], first["high"])
        self.assertLessEqual(first["high"], max(self.VALUES))
        # A figure's interval does not depend on the figures before it in the document.
        alone = repeat.aggregate([{"x": v} for v in self.VALUES], boot)["x"]
        after = repeat.aggregate([{"a": 1, "x": v} for v in self.VALUES], boot)["x"]
        self.assertEqual(alone, after)
        # Another seed may choose other bounds (with few resamples), the same ones every time.
        seeds = {repeat.Interval(repeat.BOOTSTRAP, resamples=20, seed=s).bounds(self.VALUES)
                 for s in range(1, 30)}
        self.assertGreater(len(seeds), 1)
        self.assertEqual(repeat.Interval(repeat.BOOTSTRAP, seed=7).bounds(self.VALUES),
                         repeat.Interval(repeat.BOOTSTRAP, seed=7).bounds(self.VALUES))
        self.assertEqual(boot.bounds([42]), (42, 42))
        self.assertIn("95% percentile-bootstrap", boot.describe(7))
        self.assertEqual(boot.to_json(7)["seed"], 1)

    def test_bad_settings(self):
        for kwargs in [{"method": "mean"}, {"confidence": 1.0}, {"confidence": 0},
                       {"resamples": 0}]:
            with self.assertRaises(ValueError, msg=kwargs):
                repeat.Interval(**kwargs)


class Formatting(unittest.TestCase):
    def leaf(self, median, low, high, n=3):
        return {"median": median, "low": low, "high": high, "n": n, "values": [low] * n}

    def test_interval(self):
        f = repeat.format_interval
        self.assertEqual(f(self.leaf(1234.4, 1200, 1300.4)), "1,234 [1,200–1,300]")
        self.assertEqual(f(self.leaf(2384645, 2384645, 2384645)),
                         "2,384,645 [2,384,645–2,384,645]")
        self.assertEqual(f(self.leaf(12.34, 12.01, 12.99)), "12.3 [12.0–13.0]")
        self.assertEqual(f(self.leaf(0.123, 0.1, 0.15)), "0.12 [0.10–0.15]")
        self.assertEqual(f(self.leaf(0.0123, 0.01, 0.05)), "0.012 [0.010–0.050]")
        self.assertEqual(f(self.leaf(0, 0, 0)), "0 [0–0]")
        self.assertEqual(f(self.leaf(0.05, 0.04, 0.06), decimals=2), "0.05 [0.04–0.06]")
        self.assertEqual(f(self.leaf(5, 4, 6, n=2), runs=3), "5 [4–6] (n=2)")
        self.assertEqual(f(self.leaf(5, 4, 6, n=3), runs=3), "5 [4–6]")
        self.assertEqual(f(None), "-")
        self.assertEqual(f(1234.5678, 2), "1,234.57")
        self.assertEqual(f("x"), "x")

    def test_number(self):
        self.assertEqual(repeat.format_number(1234567.8), "1,234,568")
        self.assertEqual(repeat.format_number(7), "7")
        self.assertEqual(repeat.format_number(None), "-")
        self.assertEqual(repeat.format_number(0.5, 1), "0.5")


def run_summary(pi, port=1):
    doc = {"system": "net-echo", "cores": 2, "plugin_mode": "exact", "status": "ok",
           "owners": {"1": "driver", "2": "client"}, "faults": [],
           "total": {"pds": {"driver": {"core": 0, "instructions": None},
                             "client": {"core": 1, "instructions": None}},
                     "cores": [], "vms": {}},
           "per_io": pi}
    doc["load"] = {"window": 64, "size": 64, "command": f"pinion-loadgen --port {port}"}
    return doc


class Tables(unittest.TestCase):
    def test_single_run_unchanged(self):
        one = run_summary(per_io(1506, 832, 674))
        expected = textwrap.dedent("""\
            net-echo on 2 core(s): instructions per packet, 2,000 packets echoed (window 64, 64-byte payload)

            PD                     core   in the PD  kernel for it     total
            driver                    0         792             40       832
            client                    1         664             10       674

            core         all  idle kernel  notify same  notify cross    SGIs    IRQs  wake-ups
            0            832           15         0.00          0.09    0.05    0.00      0.00
            1            674            6         0.00          0.00    0.05    0.00      0.10

            all instructions per packet (every PD, the kernel, every core): 1,506""")
        self.assertEqual(table.render_per_io(one), expected)

    def test_combined(self):
        runs = [run_summary(per_io(1500, 830, 670)), run_summary(per_io(1530, 845, 685, 0.06)),
                run_summary(per_io(1510, 840, 670))]
        outcomes = [repeat_runs.RunOutcome(i + 1, Path(f"out/run-{i + 1}"), "ok", "", s, 1.0)
                    for i, s in enumerate(runs)]
        combined = repeat_runs.combine(outcomes, 3, "experiments/run x --repeat 3")
        text = table.render_per_io(combined)
        self.assertIn("2,000 packets echoed (window 64, 64-byte payload)", text)
        self.assertIn("all instructions per packet (every PD, the kernel, every core): "
                      "1,510 [1,500–1,530]", text)
        lines = text.splitlines()
        pd_rows = lines[2:5]
        self.assertEqual([r.split()[0] for r in pd_rows], ["PD", "driver", "client"])
        self.assertEqual(len({len(r) for r in pd_rows}), 1, pd_rows)  # columns line up
        self.assertIn("840 [830–845]", pd_rows[1])
        core_rows = lines[6:9]
        self.assertEqual(len({len(r) for r in core_rows}), 1, core_rows)
        self.assertIn("0.05 [0.05–0.06]", core_rows[1])
        self.assertTrue(core_rows[1].startswith("0 "), core_rows[1])  # a core number, once
        # The median document renders as a single run does.
        self.assertIn("1,510", table.render_per_io(combined["median"]))


class Combine(unittest.TestCase):
    def outcomes(self):
        ok1 = run_summary(per_io(1500, 830, 670))
        failed = dict(run_summary(per_io(9999, 1, 1)), status="failed", reason="lost packets")
        ok3 = run_summary(per_io(1520, 840, 680), port=3)
        ok3["faults"] = [{"pd": "client", "core": 1, "what": "data abort"}]
        return [repeat_runs.RunOutcome(1, Path("o/run-1"), "ok", "", ok1, 3.0),
                repeat_runs.RunOutcome(2, Path("o/run-2"), "failed", "lost packets", failed, 2.0),
                repeat_runs.RunOutcome(3, Path("o/run-3"), "ok", "", ok3, 3.0)]

    def test_failed_run_is_named_and_left_out(self):
        doc = repeat_runs.combine(self.outcomes(), 3, "experiments/run s --repeat 3")
        self.assertEqual(doc["status"], "failed")
        self.assertEqual(doc["failed_runs"], [{"run": 2, "dir": "o/run-2",
                                               "reason": "lost packets"}])
        self.assertIn("run 2 (o/run-2): lost packets", doc["reason"])
        self.assertEqual(doc["runs"], ["o/run-1", "o/run-2", "o/run-3"])
        self.assertEqual(doc["repeat"], 3)
        self.assertEqual(doc["command"], "experiments/run s --repeat 3")
        self.assertEqual((doc["system"], doc["cores"]), ("net-echo", 2))
        self.assertEqual(doc["per_io"]["all_instructions"],
                         {"median": 1510, "low": 1500, "high": 1520, "n": 2,
                          "values": [1500, None, 1520]})
        self.assertEqual(doc["per_io_runs"][1], None)
        self.assertEqual(doc["per_io_runs"][2]["all_instructions"], 1520)
        self.assertEqual(doc["per_io_median"]["all_instructions"], 1510)
        self.assertEqual(doc["median"]["per_io"], doc["per_io_median"])
        self.assertEqual(doc["interval"]["n"], 2)
        self.assertEqual(doc["faults"], [{"pd": "client", "core": 1, "what": "data abort",
                                          "run": 3}])
        # The load generator's ports differ from run to run; its settings do not.
        self.assertEqual(doc["load"]["window"]["median"], 64)
        self.assertTrue(repeat.is_differs(doc["load"]["command"]))
        json.dumps(doc)  # a document JSON can hold

    def test_ok_interrupted_incomplete(self):
        outcomes = [o for o in self.outcomes() if o.status == "ok"]
        self.assertEqual(repeat_runs.combine(outcomes, 2, "c")["status"], "ok")
        self.assertNotIn("reason", repeat_runs.combine(outcomes, 2, "c"))
        doc = repeat_runs.combine(outcomes, 5, "c")
        self.assertEqual(doc["status"], "failed")
        self.assertIn("incomplete: 2 of 5 runs done", doc["reason"])
        doc = repeat_runs.combine(outcomes, 5, "c", interrupted=True)
        self.assertTrue(doc["interrupted"])
        self.assertIn("interrupted after 2 complete run(s) of 5", doc["reason"])
        empty = repeat_runs.combine([], 3, "c")
        self.assertEqual((empty["status"], empty["per_io"], empty["median"]["total"]),
                         ("failed", None, None))


class ArgvOf(unittest.TestCase):
    def test_round_trip(self):
        parser = argparse.ArgumentParser()
        parser.add_argument("system")
        parser.add_argument("--packets", type=int)
        parser.add_argument("--window", type=int, default=64)
        parser.add_argument("--set", action="append", default=[])
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument("--color", action="store_false")
        parser.add_argument("--repeat", type=int, default=1)
        parser.add_argument("--out")
        argv = ["s.json", "--pack", "200", "--set", "a.b=-1", "--set=c.d=2", "--quiet",
                "--color", "--repeat", "3", "--out", "x", "--window", "-5"]
        args = parser.parse_args(argv)
        again = repeat_runs.argv_of(parser, args, drop={"repeat", "out"})
        self.assertEqual(again[0], "s.json")
        self.assertNotIn("--repeat=3", again)
        reparsed = vars(parser.parse_args(again))
        expected = dict(vars(args), repeat=1, out=None)
        self.assertEqual(reparsed, expected)
        # Defaults are left to the defaults.
        self.assertEqual(repeat_runs.argv_of(parser, parser.parse_args(["s"])), ["s"])


# A stand-in for experiments/run: writes RUN_DIR/summary.json with the run's figures.
# What run K does comes from the environment: FAKE_FAIL=K (a failed summary, exit 1),
# FAKE_CRASH=K (no summary, exit 3), FAKE_HANG=K (waits, recording its pid).
FAKE_RUN = textwrap.dedent("""\
    import json, os, shutil, sys, time
    run_dir = sys.argv[1]
    index = int(run_dir.rsplit("-", 1)[1])
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    print(f"[fake] run {index}", file=sys.stderr, flush=True)
    if os.environ.get("FAKE_CRASH") == str(index):
        print("run: boom", file=sys.stderr)
        sys.exit(3)
    if os.environ.get("FAKE_HANG") == str(index):
        with open(os.path.join(run_dir, "pid"), "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)
    failed = os.environ.get("FAKE_FAIL") == str(index)
    doc = {"system": "fake", "cores": 1, "status": "failed" if failed else "ok",
           "per_io": {"all_instructions": 1000 + index, "cores": [{"total": 10 * index}]},
           "total": {"instructions": 5}}
    if failed:
        doc["reason"] = "not every packet came back"
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(doc, f)
    sys.exit(1 if failed else 0)
    """)

# Repeats the stand-in from a process of its own, which a test can interrupt.
DRIVER = textwrap.dedent("""\
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from pinionexp import repeat_runs
    fake, out = sys.argv[2], Path(sys.argv[3])
    try:
        repeat_runs.run_repeated(lambda d: [sys.executable, fake, str(d)], out, 3,
                                 command="fake --repeat 3")
    except KeyboardInterrupt:
        sys.exit(130)
    """)


class RunRepeated(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.work = Path(self.tmp.name)
        self.fake = self.work / "fake_run.py"
        self.fake.write_text(FAKE_RUN)
        self.messages = []

    def tearDown(self):
        self.tmp.cleanup()

    def repeat(self, n, **env):
        out = self.work / "out"
        environment = dict(os.environ, **env)
        doc = repeat_runs.run_repeated(lambda d: [sys.executable, str(self.fake), str(d)], out,
                                       n, command=f"fake --repeat {n}", env=environment,
                                       progress=self.messages.append, echo=False)
        on_disk = json.loads((out / "summary.json").read_text())
        self.assertEqual(on_disk, json.loads(json.dumps(doc)))
        return out, doc

    def test_every_run_ok(self):
        out, doc = self.repeat(3)
        self.assertEqual(doc["status"], "ok")
        self.assertEqual(doc["runs"], [str(out / f"run-{i}") for i in (1, 2, 3)])
        self.assertEqual(doc["per_io"]["all_instructions"]["values"], [1001, 1002, 1003])
        self.assertEqual(doc["per_io_median"], {"all_instructions": 1002,
                                                "cores": [{"total": 20}]})
        self.assertEqual(doc["total"]["instructions"]["n"], 3)
        for i in (1, 2, 3):
            self.assertTrue((out / f"run-{i}" / "summary.json").exists())
        run2 = [m for m in self.messages if m.startswith("run 2/3")]
        self.assertEqual(run2[0], f"run 2/3 into {out / 'run-2'}")
        self.assertRegex(run2[1], r"^run 2/3: ok in \d+ s$")
        self.assertEqual(len(run2), 2)
        self.assertEqual(list(out.glob(".*.tmp")), [])

    def test_failed_runs_do_not_stop_the_others(self):
        out, doc = self.repeat(3, FAKE_FAIL="2")
        self.assertEqual(doc["status"], "failed")
        self.assertEqual(doc["failed_runs"][0]["run"], 2)
        self.assertEqual(doc["failed_runs"][0]["reason"], "not every packet came back")
        self.assertEqual(doc["per_io"]["all_instructions"]["values"], [1001, None, 1003])
        self.assertIn("run 2/3: FAILED: not every packet came back", self.messages)

    def test_a_run_without_summary(self):
        out, doc = self.repeat(2, FAKE_CRASH="1")
        self.assertEqual(doc["status"], "failed")
        reason = doc["failed_runs"][0]["reason"]
        self.assertIn("exited 3, no summary.json in", reason)
        self.assertTrue(reason.endswith(": boom"), reason)
        self.assertEqual(doc["per_io"]["all_instructions"]["n"], 1)

    def test_interleaved_rounds(self):
        # Two configurations, two runs each: round by round, each combined on its own,
        # and not run again by a second call with the same command.
        order = self.work / "order"
        recorder = self.work / "record.py"
        recorder.write_text(f"import sys\nopen({str(order)!r}, 'a').write(sys.argv[1] + '\\n')\n"
                            + FAKE_RUN)
        jobs = [repeat_runs.Job(name, self.work / name,
                                lambda d: [sys.executable, str(recorder), str(d)], f"fake {name}")
                for name in ("a", "b")]
        done = repeat_runs.run_interleaved(jobs, 2, progress=self.messages.append)
        self.assertEqual([Path(line).relative_to(self.work).as_posix()
                          for line in order.read_text().split()],
                         ["a/run-1", "b/run-1", "a/run-2", "b/run-2"])
        for name in ("a", "b"):
            self.assertEqual(done[name]["status"], "ok")
            self.assertEqual(done[name]["command"], f"fake {name}")
            self.assertEqual(done[name]["per_io"]["all_instructions"]["values"], [1001, 1002])
            on_disk = json.loads((self.work / name / "summary.json").read_text())
            self.assertEqual(on_disk, json.loads(json.dumps(done[name])))
        again = repeat_runs.run_interleaved(jobs, 2, progress=self.messages.append)
        self.assertEqual(len(order.read_text().split()), 4)
        self.assertEqual(again["a"]["per_io"]["all_instructions"]["values"], [1001, 1002])
        self.assertIn("a: done before, 2 runs kept", self.messages)

    def test_at_least_one_run(self):
        with self.assertRaises(ValueError):
            repeat_runs.run_repeated(lambda d: ["true"], self.work / "x", 0, command="c")
        self.assertFalse((self.work / "x").exists())

    def interrupt(self, signum):
        driver = self.work / "driver.py"
        driver.write_text(DRIVER)
        out = self.work / "out"
        proc = subprocess.Popen([sys.executable, str(driver), str(REPO / "experiments/lib"),
                                 str(self.fake), str(out)],
                                env=dict(os.environ, FAKE_HANG="2"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        pid_file = out / "run-2" / "pid"
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(pid_file.exists(), "run 2 did not start")
        time.sleep(0.2)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 130, err)
        doc = json.loads((out / "summary.json").read_text())
        self.assertEqual(doc["status"], "failed")
        self.assertTrue(doc["interrupted"])
        self.assertIn("interrupted after 1 complete run(s) of 3", doc["reason"])
        self.assertEqual(doc["runs"], [str(out / "run-1"), str(out / "run-2")])
        self.assertEqual(doc["failed_runs"], [{"run": 2, "dir": str(out / "run-2"),
                                               "reason": "interrupted"}])
        self.assertEqual(doc["per_io"]["all_instructions"]["values"], [1001, None])
        self.assertEqual(json.loads((out / "run-2" / "summary.json").read_text())["reason"],
                         "interrupted")
        self.assertFalse((out / "run-3").exists())
        # The run under way was ended, not left behind.
        with self.assertRaises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)

    def test_ctrl_c(self):
        self.interrupt(signal.SIGINT)

    def test_sigterm(self):
        self.interrupt(signal.SIGTERM)


if __name__ == "__main__":
    unittest.main()
