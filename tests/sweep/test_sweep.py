#!/usr/bin/env python3
"""Unit tests of the sweep library (experiments/lib/pinionexp/sweep*.py): layouts to
placement files, sampling, the CSV and its resume logic, failed runs, the measured and
predicted fields, the derived profile, rank correlation and the validation summary.
Host only, no QEMU: python3 -m unittest discover -s tests/sweep"""

import copy
import csv
import json
import os
import stat
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments/lib"))
from pinionexp import sweep, sweep_model, sweep_profile, sweep_report  # noqa: E402

NET_ECHO = json.loads((REPO / "systems/net-echo.json").read_text())
NET_ECHO_DVM = json.loads((REPO / "systems/net-echo-dvm.json").read_text())
ENTITIES = sweep.entities_of(NET_ECHO)


def layout(digits, entities=ENTITIES):
    return sweep.Layout(tuple(entities), tuple(int(d) for d in digits))


class Arguments(unittest.TestCase):
    def test_cores(self):
        self.assertEqual(sweep.parse_cores("1..4"), [1, 2, 3, 4])
        self.assertEqual(sweep.parse_cores("2"), [2])
        self.assertEqual(sweep.parse_cores("3,1,3"), [1, 3])
        self.assertEqual(sweep.parse_cores("2..3,1"), [1, 2, 3])
        for bad, says in [("0", "out of range 1..4"), ("5", "out of range 1..4"),
                          ("1..5", "5 is out of range"), ("3..1", "empty range"),
                          ("x", "give N"), ("", "give N"), ("1-4", "give N")]:
            with self.assertRaises(sweep.SweepError, msg=bad) as cm:
                sweep.parse_cores(bad)
            self.assertIn(says, str(cm.exception))

    def test_batching(self):
        self.assertEqual(sweep.parse_batching("all"), ["immediate", "end_of_handler", "coalesce"])
        self.assertEqual(sweep.parse_batching("coalesce,immediate,coalesce"),
                         ["coalesce", "immediate"])
        self.assertEqual(sweep.policy_of("immediate"), {"policy": "immediate"})
        self.assertEqual(sweep.policy_of("coalesce"),
                         {"policy": "coalesce", "count": 8, "window_us": 50})
        self.assertEqual(sweep.policy_of("coalesce:16:100"),
                         {"policy": "coalesce", "count": 16, "window_us": 100})
        for bad in ["fast", "immediate:1:2", "coalesce:0:5", "coalesce:8", "coalesce:8:0",
                    "coalesce:70000:5", ""]:
            with self.assertRaises(sweep.SweepError, msg=bad):
                sweep.parse_batching(bad)


class Layouts(unittest.TestCase):
    def test_canonical(self):
        self.assertEqual(sweep.canonical((2, 2, 0, 1)), (0, 0, 1, 2))
        self.assertEqual(sweep.canonical((0, 1, 0)), (0, 1, 0))

    def test_layout(self):
        lay = layout("0011000")
        self.assertEqual(lay.id, "0011000")
        self.assertEqual(lay.n_cores, 2)
        self.assertEqual(lay.groups(), "0: ethernet_driver net_virt_tx client1_net_copier "
                         "client0 client1 | 1: net_virt_rx client0_net_copier")
        self.assertTrue(lay.pd_cores().startswith("ethernet_driver=0 net_virt_tx=0 "
                                                  "net_virt_rx=1"))

    def test_layout_from_id(self):
        self.assertEqual(sweep.layout_from_id("0000001", ENTITIES), layout("0000001"))
        for bad, says in [("000001", "expected 7 core digits"), ("00a0001", "expected 7"),
                          ("1000000", "number the cores by first use (0111111)"),
                          ("0123450", "more than 4 cores"), ("", "expected 7")]:
            with self.assertRaises(sweep.SweepError, msg=bad) as cm:
                sweep.layout_from_id(bad, ENTITIES)
            self.assertIn(says, str(cm.exception))

    def test_from_enumeration_dedupes_and_canonicalises(self):
        def entry(cores):
            return {"cores": dict(zip(["a", "b", "c"], cores)), "polling": []}
        doc = {"layouts": [entry([0, 0, 1]), entry([1, 1, 0]), entry([0, 1, 2]),
                           entry([2, 1, 0]), entry([0, 0, 0])]}
        got = sweep.layouts_from_enumeration(doc)
        self.assertEqual([x.id for x in got], ["001", "012", "000"])
        self.assertEqual(got[0].entities, ("a", "b", "c"))
        bad = {"layouts": [entry([0, 0, 1]), {"cores": {"a": 0, "z": 1}}]}
        with self.assertRaises(sweep.SweepError):
            sweep.layouts_from_enumeration(bad)

    def test_sample_is_deterministic(self):
        pool = [layout(f"{i:07b}") for i in range(64)]
        chosen, sampled = sweep.sample(pool, 5, seed=1)
        self.assertTrue(sampled)
        self.assertEqual(len(chosen), 5)
        again, _ = sweep.sample(list(reversed(pool)), 5, seed=1)
        self.assertEqual([x.id for x in chosen], [x.id for x in again])
        self.assertEqual([x.id for x in chosen], sorted(x.id for x in chosen))
        bigger, _ = sweep.sample(pool, 6, seed=1)
        self.assertTrue({x.id for x in chosen} <= {x.id for x in bigger})
        other, _ = sweep.sample(pool, 5, seed=2)
        self.assertNotEqual({x.id for x in chosen}, {x.id for x in other})
        everything, sampled = sweep.sample(pool, 64, seed=1)
        self.assertFalse(sampled)
        self.assertEqual(len(everything), 64)
        everything, sampled = sweep.sample(pool, None, seed=1)
        self.assertFalse(sampled)
        # A fixed expectation, so that a change of the hash is seen.
        self.assertEqual([x.id for x in sweep.sample(pool, 3, seed=7)[0]],
                         FIXED_SAMPLE)


# sweep.sample(64 layouts 0000000..0111111, 3, seed=7): sha256 of "7/<id>", three smallest.
FIXED_SAMPLE = sorted(sorted((f"{i:07b}" for i in range(64)),
                             key=lambda i: __import__("hashlib").sha256(
                                 f"7/{i}".encode()).hexdigest())[:3])


class Meta(unittest.TestCase):
    def test_layouts_by_batching(self):
        old = {"1": {"distinct": 1, "run": 1, "sampled": False}}
        rows = [{"batching": "immediate"}, {"batching": "coalesce"}]
        self.assertEqual(sweep.layouts_by_batching(old, rows),
                         {"coalesce": old, "immediate": old})
        new = {"immediate": old}
        self.assertEqual(sweep.layouts_by_batching(new, rows), new)
        self.assertEqual(sweep.layouts_by_batching({}, rows), {})


class Placements(unittest.TestCase):
    def test_native(self):
        doc = sweep.placement_doc(NET_ECHO, layout("0011000"), "end_of_handler")
        self.assertEqual(doc["system"], "net-echo")
        self.assertEqual(doc["cores"], 2)
        self.assertEqual(doc["pds"], {"ethernet_driver": 0, "net_virt_tx": 0, "net_virt_rx": 1,
                                      "client0_net_copier": 1, "client1_net_copier": 0,
                                      "client0": 0, "client1": 0})
        self.assertEqual(doc["batching"], {"default": {"policy": "end_of_handler"}})
        self.assertNotIn("vcpus", doc)
        self.assertNotIn("polling", doc)
        doc = sweep.placement_doc(NET_ECHO, layout("0123000"), "coalesce:4:20")
        self.assertEqual(doc["cores"], 4)
        self.assertEqual(doc["batching"]["default"],
                         {"policy": "coalesce", "count": 4, "window_us": 20})

    def test_median_run(self):
        runs = [{"per_io": {"all_instructions": v}} for v in (1700, 1590, 1780)]
        self.assertEqual(sweep.median_run(runs), 0)
        self.assertEqual(sweep.median_run(runs[1:]), 0)  # the lower of two
        self.assertEqual(sweep.median_run(runs[2:]), 0)
        with self.assertRaises(sweep.SweepError):
            sweep.median_run([])

    def test_vm(self):
        entities = sweep.entities_of(NET_ECHO_DVM)
        self.assertEqual(entities[-1], "net_vm/vcpu0")
        doc = sweep.placement_doc(NET_ECHO_DVM, layout("0001111", entities), "immediate")
        self.assertEqual(doc["pds"]["net_vm"], 1)
        self.assertEqual(doc["vcpus"], {"net_vm": [1]})
        two = copy.deepcopy(NET_ECHO_DVM)
        two["vms"][0]["vcpus"] = 2
        entities = sweep.entities_of(two)
        self.assertEqual(entities[-2:], ["net_vm/vcpu0", "net_vm/vcpu1"])
        doc = sweep.placement_doc(two, layout("00000012", entities), "immediate")
        self.assertEqual(doc["pds"]["net_vm"], 1)
        self.assertEqual(doc["vcpus"], {"net_vm": [1, 2]})
        self.assertEqual(doc["cores"], 3)

    def test_polling(self):
        lay = sweep.Layout(tuple(ENTITIES), (0, 1, 1, 1, 1, 1, 1), ("ethernet_driver",))
        self.assertEqual(sweep.placement_doc(NET_ECHO, lay, "immediate")["polling"],
                         ["ethernet_driver"])

    @unittest.skipUnless(os.environ.get("PINION_BUILD_DIR"), "PINION_BUILD_DIR not set")
    def test_placement_files_load(self):
        """Every kind of placement the sweep writes loads with the real loader (through
        place --evaluate)."""
        place = Path(os.environ["PINION_BUILD_DIR"]) / "placement/place"
        with tempfile.TemporaryDirectory() as tmp:
            profile = Path(tmp) / "profile.json"
            base = json.loads((REPO / "boards/qemu-virt-aarch64/profile.json").read_text())
            for system in (NET_ECHO, NET_ECHO_DVM):
                base["systems"][system["name"]]["work"] = {
                    e: {"work": 100, "source": "test"} for e in sweep.entities_of(system)}
            sweep.write_json_atomic(profile, base)
            for system, digits in [(NET_ECHO, "0123000"), (NET_ECHO, "0000000"),
                                   (NET_ECHO_DVM, "0001112")]:
                path = Path(tmp) / f"{digits}.json"
                for label in ("immediate", "end_of_handler", "coalesce:4:20"):
                    sweep.write_json_atomic(path, sweep.placement_doc(
                        system, layout(digits, sweep.entities_of(system)), label))
                    runner = sweep.Place(place, REPO / "systems" / f"{system['name']}.json",
                                         profile)
                    doc = runner.evaluate(path, 4)
                    got = doc["layouts"][0]["cores"]
                    want = dict(zip(sweep.entities_of(system), map(int, digits)))
                    self.assertEqual(got, want)


class Csv(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "sweep.csv"

    def tearDown(self):
        self.tmp.cleanup()

    def row(self, lay="0000000", status="ok", **extra):
        row = {"system": "net-echo", "layout": lay, "batching": "immediate", "packets": 500,
               "window": 64, "status": status}
        row.update(extra)
        return row

    def test_append_and_read_back(self):
        table = sweep.SweepCSV(self.path)
        table.append(self.row(reason="two\nlines, and a comma", total_ipp=1234.5678))
        table.append(self.row("0000001", core0_ipp=0.123456789))
        lines = self.path.read_text().splitlines()
        self.assertEqual(lines[0], ",".join(sweep.COLUMNS))
        self.assertEqual(len(lines), 3)
        again = sweep.SweepCSV(self.path)
        self.assertEqual(len(again.rows), 2)
        first = again.get(("net-echo", "0000000", "immediate", 500, 64))
        self.assertEqual(first["reason"], "two / lines, and a comma")
        self.assertEqual(first["total_ipp"], "1234.57")
        self.assertEqual(again.get(("net-echo", "0000001", "immediate", "500", "64"))
                         ["core0_ipp"], "0.123457")
        self.assertIsNone(again.get(("net-echo", "0000001", "immediate", 2000, 64)))

    def test_half_written_row_is_dropped(self):
        table = sweep.SweepCSV(self.path)
        table.append(self.row("0000000"))
        table.append(self.row("0000001"))
        whole = self.path.read_text()
        with open(self.path, "a") as f:
            f.write("net-echo,0000002,1,partial")  # a write cut short
        cut = self.path.read_text()
        self.assertEqual([r["layout"] for r in sweep.read_rows(self.path)],
                         ["0000000", "0000001"])
        self.assertEqual(self.path.read_text(), cut)  # a reader leaves the file alone
        again = sweep.SweepCSV(self.path)
        self.assertEqual([r["layout"] for r in again.rows], ["0000000", "0000001"])
        self.assertEqual(self.path.read_text(), whole)
        again.append(self.row("0000002"))
        self.assertEqual(len(sweep.SweepCSV(self.path).rows), 3)

    def test_latest_row_of_a_key_wins(self):
        table = sweep.SweepCSV(self.path)
        table.append(self.row(status="failed", reason="boom"))
        table.append(self.row(status="ok"))
        again = sweep.SweepCSV(self.path)
        self.assertEqual(len(again.rows), 2)
        self.assertEqual(len(again.by_key), 1)
        self.assertEqual(again.get(("net-echo", "0000000", "immediate", 500, 64))["status"],
                         "ok")

    def test_other_columns_are_refused(self):
        self.path.write_text("layout,status\n0000000,ok\n")
        with self.assertRaises(sweep.SweepError) as cm:
            sweep.SweepCSV(self.path)
        self.assertIn("other columns", str(cm.exception))
        with self.assertRaises(ValueError):
            sweep.SweepCSV(Path(self.tmp.name) / "new.csv").append({"nonsense": 1})

    def test_empty_and_header_only(self):
        self.path.write_text("")
        self.assertEqual(sweep.SweepCSV(self.path).rows, [])
        self.path.write_text(",".join(sweep.COLUMNS))  # header cut short of its newline
        table = sweep.SweepCSV(self.path)
        table.append(self.row())
        self.assertEqual(len(sweep.SweepCSV(self.path).rows), 1)


def fake_summary(cores_ipp, events=None, ios=1000):
    events = events or {"notify_same_core": 0.4, "notify_cross_core": 0.1, "sgi_sent": 0.05,
                        "wakeups": 0.3, "device_irqs": 0.05}
    return {"status": "ok", "per_io": {
        "ios": ios, "all_instructions": sum(cores_ipp), "events": events,
        "cores": [{"core": c, "instructions": {"total": v, "kernel": v / 10,
                                                "guest_kernel": 0, "user": v * 0.9}}
                  for c, v in enumerate(cores_ipp)]}}


class Runs(unittest.TestCase):
    """run_jobs with fake runs: what is recorded, what is skipped on resume."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.table = sweep.SweepCSV(self.dir / "sweep.csv")
        self.jobs = [sweep.Job("net-echo", layout(d), "immediate", 500, 64)
                     for d in ("0000000", "0000001", "0000011")]
        self.ran = []
        self.messages = []

    def tearDown(self):
        self.tmp.cleanup()

    def paths(self, job):
        return self.dir / f"{job.layout.id}.json", self.dir / "runs" / job.layout.id

    def run_fn(self, fail=()):
        def run(job, placement, run_dir):
            self.ran.append(job.layout.id)
            if job.layout.id in fail:
                return sweep.RunResult("failed", "pinion-loadgen: not every packet came back",
                                       {}, str(run_dir), 1.5, "experiments/run ...")
            return sweep.RunResult("ok", "", fake_summary([600.0, 400.0]), str(run_dir), 1.0,
                                   "experiments/run ...")
        return run

    @staticmethod
    def predict(job, placement):
        if job.layout.id == "0000011":
            raise sweep.SweepError("no throughput limit")
        return {"pred_core0_ipp": 650.0, "pred_bottleneck_core": 0,
                "pred_bottleneck_ipp": 650.0}

    def go(self, fail=(), retry=False):
        return sweep.run_jobs(self.jobs, self.table, self.run_fn(fail), self.predict, self.paths,
                              self.messages.append, retry, calibration_id="0000000")

    def test_failed_run_is_recorded(self):
        self.assertEqual(self.go(fail={"0000001"}), (3, 0, 1))
        rows = {r["layout"]: r for r in sweep.SweepCSV(self.dir / "sweep.csv").rows}
        self.assertEqual(len(rows), 3)
        bad = rows["0000001"]
        self.assertEqual(bad["status"], "failed")
        self.assertIn("not every packet", bad["reason"])
        self.assertEqual(bad["core0_ipp"], "")
        self.assertEqual(bad["bottleneck_ipp"], "")
        self.assertEqual(bad["pred_bottleneck_ipp"], "650")  # the prediction is still made
        good = rows["0000000"]
        self.assertEqual((good["status"], good["core0_ipp"], good["bottleneck_core"]),
                         ("ok", "600", "0"))
        self.assertEqual(good["calibration_layout"], "yes")
        self.assertEqual(rows["0000011"]["calibration_layout"], "no")
        self.assertEqual(rows["0000011"]["pred_bottleneck_ipp"], "")
        self.assertIn("no throughput limit", rows["0000011"]["pred_note"])
        self.assertTrue(any(m.startswith("[2/3] layout 0000001 (2 cores, immediate)")
                            for m in self.messages), self.messages)
        self.assertTrue(any("FAILED" in m for m in self.messages))

    def test_resume_runs_nothing_new(self):
        self.go(fail={"0000001"})
        self.ran.clear()
        self.table = sweep.SweepCSV(self.dir / "sweep.csv")
        self.assertEqual(self.go(), (0, 3, 0))
        self.assertEqual(self.ran, [])
        self.assertIn("3 of 3 runs already in", self.messages[-1])
        self.assertEqual(self.go(retry=True), (1, 2, 0))
        self.assertEqual(self.ran, ["0000001"])
        again = sweep.SweepCSV(self.dir / "sweep.csv")
        self.assertEqual(again.get(self.jobs[1].key)["status"], "ok")

    def test_interrupted_sweep_goes_on(self):
        def interrupting(job, placement, run_dir):
            if job.layout.id == "0000011":
                raise KeyboardInterrupt
            return self.run_fn()(job, placement, run_dir)
        with self.assertRaises(KeyboardInterrupt):
            sweep.run_jobs(self.jobs, self.table, interrupting, self.predict, self.paths,
                           self.messages.append)
        self.table = sweep.SweepCSV(self.dir / "sweep.csv")
        self.assertEqual(len(self.table.rows), 2)
        self.ran.clear()
        self.assertEqual(self.go(), (1, 2, 0))
        self.assertEqual(self.ran, ["0000011"])

    def test_experiment_run_reads_a_failed_run(self):
        """ExperimentRun against a stand-in experiments/run that fails as the real one does."""
        repo = self.dir / "repo"
        (repo / "experiments").mkdir(parents=True)
        script = repo / "experiments/run"
        script.write_text(textwrap.dedent("""\
            #!/usr/bin/env python3
            import json, sys
            out = sys.argv[sys.argv.index("--out") + 1]
            import os; os.makedirs(out, exist_ok=True)
            open(os.path.join(out, "image.elf"), "w").write("x")
            json.dump({"status": "failed", "reason": "an echo client does not answer ARP"},
                      open(os.path.join(out, "summary.json"), "w"))
            print("run: an echo client does not answer ARP", file=sys.stderr)
            print("run: failed; see " + out, file=sys.stderr)
            sys.exit(1)
            """))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        run = sweep.ExperimentRun(repo, repo / "system.json", "build")
        job = self.jobs[0]
        result = run(job, repo / "p.json", repo / "runs/x")
        self.assertEqual(result.status, "failed")
        self.assertEqual(result.reason, "an echo client does not answer ARP")
        self.assertEqual(result.run_dir, "runs/x")
        self.assertFalse((repo / "runs/x/image.elf").exists())
        self.assertTrue(result.command.startswith("experiments/run system.json --placement "
                                                  "p.json --packets 500 --window 64"))
        # A block system's workload: the caller's options in place of packets and window.
        blk_run = sweep.ExperimentRun(repo, repo / "system.json", "build", workload=lambda j: [
            "--ios", str(j.packets), "--depth", "16"])
        result = blk_run(job, repo / "p.json", repo / "runs/b")
        self.assertTrue(result.command.startswith("experiments/run system.json --placement "
                                                  "p.json --ios 500 --depth 16 --no-build"))
        script.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 3\n")
        result = run(job, repo / "p.json", repo / "runs/y")
        self.assertEqual(result.status, "failed")
        self.assertIn("boom", result.reason)


class Fields(unittest.TestCase):
    def test_measured(self):
        got = sweep.measured_fields(fake_summary([600.0, 900.0, 300.0]))
        self.assertEqual(got["bottleneck_core"], 1)
        self.assertEqual(got["bottleneck_ipp"], 900.0)
        self.assertEqual(got["total_ipp"], 1800.0)
        self.assertEqual(got["core2_ipp"], 300.0)
        self.assertAlmostEqual(got["notifications_pp"], 0.5)
        self.assertAlmostEqual(got["kernel_ipp"], 180.0)
        self.assertEqual(got["sgis_pp"], 0.05)
        self.assertEqual(sweep.measured_fields({"status": "failed"}), {})

    def test_predicted(self):
        doc = {"load_per_s": 500000.0, "layouts": [{"predicted": {"per_core": [
            {"core": 0, "util": 0.5, "notifications_per_io": 0.2, "sgis_per_io": 0.1},
            {"core": 1, "util": 1.0, "notifications_per_io": 0.3, "sgis_per_io": 0.0}]}}]}
        got = sweep.predicted_fields(doc, 1e9)
        self.assertEqual(got["pred_core0_ipp"], 1000.0)
        self.assertEqual(got["pred_core1_ipp"], 2000.0)
        self.assertEqual(got["pred_core1_util"], 1.0)
        self.assertEqual(got["pred_bottleneck_core"], 1)
        self.assertEqual(got["pred_total_ipp"], 3000.0)
        self.assertEqual(got["pred_notifications_pp"], 0.5)
        self.assertEqual(got["pred_sgis_pp"], 0.1)
        self.assertEqual(got["pred_load_per_s"], 500000)

    def test_speed(self):
        profile = json.loads((REPO / "boards/qemu-virt-aarch64/profile.json").read_text())
        self.assertEqual(sweep.profile_speed(profile), 1e9)


def run_summary(system_doc, per_pd_user, ios=1000, events=None, vms=None):
    """A summary.json of experiments/run as far as derive() reads it."""
    pds = {pd: {"instructions": {"user": u, "kernel": 10, "guest_kernel": 0, "total": u + 10}}
           for pd, u in per_pd_user.items()}
    section = {"pds": pds, "vms": vms or {}, "events": events or {}}
    return {"system": system_doc["name"], "status": "ok", "command": "experiments/run ...",
            "per_io": {"ios": ios}, "phases": {"1": section}, "load": {"window": 64}}


class Profile(unittest.TestCase):
    base = json.loads((REPO / "boards/qemu-virt-aarch64/profile.json").read_text())

    def test_native(self):
        users = {c["name"]: 1000 * (i + 1) for i, c in enumerate(NET_ECHO["components"])}
        events = {"notify_same_core": 450, "notify_cross_core": 50, "device_irqs": 100}
        summary = run_summary(NET_ECHO, users, ios=1000, events=events)
        got = sweep_profile.derive(self.base, NET_ECHO, summary, "s.json")
        work = got["systems"]["net-echo"]["work"]
        self.assertEqual(work["ethernet_driver"]["work"], 1.0)
        self.assertEqual(work["ethernet_driver"]["irqs"], 1)
        self.assertEqual(work["ethernet_driver"]["activation"], 0)
        self.assertNotIn("irqs", work["client0"])
        self.assertEqual(work["client1"]["work"], 7.0)
        self.assertIn("measured: s.json", work["client1"]["source"])
        # channels as the board's profile gives them: 1 + 1 + 6 x 0.5 = 5, plus 1 interrupt
        self.assertEqual(got["batching"]["window"]["value"], round(6 / 0.6, 2))
        self.assertEqual(got["systems"]["net-echo"]["channels"],
                         self.base["systems"]["net-echo"]["channels"])
        self.assertEqual(got["io"]["unit"], "packet")
        self.assertEqual(self.base["batching"]["window"]["value"], 64)  # base untouched
        kept = sweep_profile.derive(self.base, NET_ECHO, summary, "s.json", fit_window=False)
        self.assertEqual(kept["batching"]["window"]["value"], 64)
        self.assertEqual(kept["batching"]["shape"]["value"], 2)
        closed = sweep_profile.derive(self.base, NET_ECHO, summary, "s.json", closed_loop=True)
        self.assertEqual(closed["batching"]["shape"]["value"], 1000)
        self.assertIn("closed loop", closed["batching"]["shape"]["source"])

    def test_vm(self):
        users = {c["name"]: 500 for c in NET_ECHO_DVM["components"]}
        users["net_vm"] = 0
        vms = {"net_vm": {"vcpus": [{"vcpu": 0, "core": 1, "instructions": {
            "user": 20000, "guest_kernel": 80000, "kernel": 30000}}],
            "exits": {"doorbell": 200, "mmio_gicd": 100, "wfi": 300, "virqs": 400}}}
        summary = run_summary(NET_ECHO_DVM, users, ios=1000, vms=vms,
                              events={"notify_same_core": 500})
        got = sweep_profile.derive(self.base, NET_ECHO_DVM, summary, "s.json")
        work = got["systems"]["net-echo-dvm"]["work"]
        self.assertEqual(work["net_vm/vcpu0"]["work"], 100.0)
        self.assertEqual(work["net_vm/vcpu0"]["exits"], 0.4)  # 400 non-doorbell exits
        self.assertEqual(work["net_vm/vcpu0"]["irqs"], 1)
        self.assertEqual(got["events"]["vm_exit"]["value"], 50.0)  # 30000 / 600 exits
        self.assertEqual(got["events"]["vm_inject"]["value"], 0)
        self.assertNotIn("net_vm", work)

    def test_refusals(self):
        summary = run_summary(NET_ECHO, {c["name"]: 1 for c in NET_ECHO["components"]})
        for change, says in [({"status": "failed", "reason": "x"}, "the run failed"),
                             ({"system": "other"}, "a run of 'other'"),
                             ({"per_io": None}, "no per-packet figures")]:
            bad = dict(summary, **change)
            with self.assertRaises(sweep_profile.ProfileError) as cm:
                sweep_profile.derive(self.base, NET_ECHO, bad, "s.json")
            self.assertIn(says, str(cm.exception))


class Rank(unittest.TestCase):
    def test_ranks_with_ties(self):
        self.assertEqual(sweep_model.ranks([10, 30, 20, 30]), [1, 3.5, 2, 3.5])

    def test_spearman(self):
        self.assertAlmostEqual(sweep_model.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1.0)
        self.assertAlmostEqual(sweep_model.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1.0)
        # monotone but not linear: still 1
        self.assertAlmostEqual(sweep_model.spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 1000]), 1.0)
        # by hand: d = (0, -1, 1, 0, 0): 1 - 6*2/(5*24) = 0.9
        self.assertAlmostEqual(sweep_model.spearman([1, 2, 3, 4, 5], [1, 3, 2, 4, 5]), 0.9)
        # ties: Pearson on averaged ranks [1, 2.5, 2.5, 4] vs [1, 2, 3, 4]
        self.assertAlmostEqual(sweep_model.spearman([1, 2, 2, 3], [1, 2, 3, 4]),
                               4.5 / (4.5 * 5) ** 0.5)
        self.assertIsNone(sweep_model.spearman([1], [2]))
        self.assertIsNone(sweep_model.spearman([1, 1, 1], [1, 2, 3]))
        with self.assertRaises(ValueError):
            sweep_model.spearman([1, 2], [1])


def csv_row(lay, cores, measured, predicted, status="ok", calibration="no", batching="immediate"):
    row = {c: "" for c in sweep.COLUMNS}
    row.update({"system": "net-echo", "layout": lay, "cores": str(cores), "batching": batching,
                "packets": "500", "window": "64", "status": status,
                "calibration_layout": calibration})
    if status == "ok":
        for c, v in enumerate(measured):
            row[f"core{c}_ipp"] = str(v)
        neck = max(range(len(measured)), key=lambda c: measured[c])
        row.update(bottleneck_core=str(neck), bottleneck_ipp=str(measured[neck]),
                   total_ipp=str(sum(measured)))
    for c, v in enumerate(predicted):
        row[f"pred_core{c}_ipp"] = str(v)
    neck = max(range(len(predicted)), key=lambda c: predicted[c])
    row.update(pred_bottleneck_core=str(neck), pred_bottleneck_ipp=str(predicted[neck]),
               pred_total_ipp=str(sum(predicted)))
    return row


class Validation(unittest.TestCase):
    rows = [csv_row("0000000", 1, [1000], [1000], calibration="yes"),
            csv_row("0000001", 2, [600, 500], [660, 450]),
            csv_row("0000011", 2, [700, 400], [630, 440]),
            csv_row("0000111", 2, [550, 550], [500, 700]),
            csv_row("0001111", 2, [0], [500], status="failed")]

    def test_per_core_errors(self):
        records = sweep_model.per_core_errors(self.rows)
        self.assertEqual(len(records), 1 * 3 + 3 * 4)  # cores + bottleneck + total per layout
        first = [r for r in records if r["layout"] == "0000001"]
        self.assertEqual([r["core"] for r in first], ["0", "1", "bottleneck", "total"])
        self.assertEqual(first[0]["error_pct"], 10.0)
        self.assertEqual(first[1]["error_pct"], -10.0)
        self.assertEqual(first[0]["error_ipp"], 60.0)
        neck = [r for r in records if r["layout"] == "0000111" and r["core"] == "bottleneck"][0]
        self.assertEqual(neck["measured_bottleneck"], "0")
        self.assertEqual(neck["predicted_bottleneck"], "1")
        self.assertAlmostEqual(neck["error_pct"], 100 * 150 / 550, places=2)

    def test_summary(self):
        (s,) = sweep_model.summarise(self.rows)
        self.assertEqual((s["layouts"], s["ok"], s["failed"], s["compared"]), (5, 4, 1, 4))
        self.assertEqual(s["held_out"], 3)
        self.assertAlmostEqual(s["same_bottleneck"], 0.75)
        # measured bottlenecks 600, 700, 550 against predicted 660, 630, 700
        self.assertAlmostEqual(s["spearman_bottleneck"],
                               sweep_model.spearman([660, 630, 700], [600, 700, 550]))
        self.assertEqual(list(s["spearman_by_cores"]), [2])
        text = sweep_model.markdown([s], ["experiments/sweep systems/net-echo.json"])
        self.assertIn("| net-echo | immediate | 4/1 |", text)
        self.assertIn("    experiments/sweep systems/net-echo.json", text)

    def test_groups_by_batching(self):
        rows = self.rows + [csv_row("0000001", 2, [600, 500], [600, 500], batching="coalesce")]
        got = sweep_model.summarise(rows)
        self.assertEqual([s["batching"] for s in got], ["coalesce", "immediate"])
        self.assertEqual(got[0]["core_mape"], 0)
        self.assertIsNone(got[0]["spearman_bottleneck"])


class Report(unittest.TestCase):
    rows = [csv_row("0000000", 1, [1000], [1000], calibration="yes"),
            csv_row("0000001", 2, [600, 500], [660, 450]),
            csv_row("0000011", 2, [700, 400], [630, 440]),
            csv_row("0000001", 2, [650, 520], [640, 450], batching="end_of_handler"),
            csv_row("0000011", 2, [720, 420], [650, 440], batching="end_of_handler"),
            csv_row("0000012", 3, [300, 250, 200], [320, 260, 210]),
            csv_row("0000111", 2, [0], [500], status="failed")]

    def test_one_core_cost(self):
        self.assertEqual(sweep_report.one_core_cost(self.rows), 1000)
        self.assertEqual(sweep_report.one_core_cost(self.rows, [900, 1200, 1300]), 1100)
        self.assertEqual(sweep_report.one_core_cost(self.rows[1:], [900]), 900)
        self.assertIsNone(sweep_report.one_core_cost(self.rows[1:]))

    def test_per_core_series(self):
        series = sweep_report.per_core_series(self.rows, "immediate")
        self.assertEqual([r["layout"] for r in series],
                         ["0000000", "0000001", "0000011", "0000012"])
        self.assertEqual([r["index"] for r in series], [1, 2, 3, 4])
        self.assertEqual(series[1]["core1"], 500)
        self.assertEqual(series[1]["core2"], "")
        self.assertEqual(sweep_report.core_count_bounds(series),
                         [(1, 1, "1"), (2, 3, "2"), (4, 4, "3")])

    def test_hidden(self):
        records, best = sweep_report.hidden(self.rows, 1000.0, "native", "immediate")
        self.assertEqual(len(records), 4)
        self.assertEqual([(b["cores"], b["layout"], b["fraction"]) for b in best],
                         [(1, "0000000", 1.0), (2, "0000001", 0.6), (3, "0000012", 0.3)])
        self.assertEqual(best[1]["total_fraction"], 1.1)

    def test_batching_table(self):
        table = sweep_report.batching_table(self.rows)
        # only layouts run with both policies count: 0000001 and 0000011, 2 cores
        self.assertEqual([(t["cores"], t["batching"], t["layouts"]) for t in table],
                         [(2, "end_of_handler", 2), (2, "immediate", 2)])
        immediate = table[1]
        self.assertEqual(immediate["bottleneck_ipp"], 650.0)
        self.assertAlmostEqual(immediate["bottleneck_vs_eoh_pct"],
                               round(100 * ((600 / 650 - 1) + (700 / 720 - 1)) / 2, 2))

    def test_predicted_vs_measured(self):
        cores, necks, rho = sweep_report.predicted_vs_measured(
            sweep_report.ok_rows(self.rows, "immediate"), "native")
        self.assertEqual(len(cores), 1 + 2 + 2 + 3)
        self.assertEqual(len(necks), 4)
        self.assertEqual(necks[1], {"system": "native", "batching": "immediate",
                                    "layout": "0000001", "measured": 600.0,
                                    "predicted": 660.0})
        self.assertAlmostEqual(rho, sweep_model.spearman([1000, 660, 630, 320],
                                                         [1000, 600, 700, 300]))

    def test_choice_rank(self):
        got = sweep_report.choice_rank(self.rows, "0000011", "immediate")
        self.assertEqual((got["rank"], got["of"], got["best"], got["cores"]),
                         (2, 2, "0000001", 2))
        self.assertAlmostEqual(got["gap_pct"], round(100 * (700 / 600 - 1), 2))
        self.assertEqual(sweep_report.choice_rank(self.rows, "0000001", "immediate")["rank"], 1)
        self.assertIsNone(sweep_report.choice_rank(self.rows, "0000111", "immediate"))

    def test_markdown_table(self):
        text = sweep_report.markdown_table([{"a": 1234.5, "b": ""}], ["a", "b"], ["A", "B"],
                                           {"a": ",.0f", "b": ".1f"})
        self.assertEqual(text.splitlines(), ["| A | B |", "|---|---|", "| 1,234 |  |"])


class ReadRows(unittest.TestCase):
    def test_read_rows_from_csv_module(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sweep.csv"
            table = sweep.SweepCSV(path)
            for r in Validation.rows:
                table.append(r)
            with open(path) as f:
                self.assertEqual(len(list(csv.DictReader(f))), 5)
            rows = sweep.read_rows(path)
            self.assertEqual(len(sweep_model.per_core_errors(rows)), 15)


if __name__ == "__main__":
    unittest.main()
