"""experiments/profile and experiments/lib/pinionexp/profile.py on made-up runs: folding
into subsystems, division per I/O, medians over repeated runs, the composition's
arithmetic, the outputs, and the error messages."""

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.dom.minidom
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments/lib"))
from pinionexp import profile as prof  # noqa: E402

TOOL = REPO / "experiments/profile"

# Phase-1 function counts of a made-up driver-VM run of 10 packets: 4,200 instructions in
# functions of the map, against 4,300 guest-kernel instructions (100 outside any symbol).
FUNCTIONS = [["virtnet_poll", 2000], ["__napi_poll", 1000], ["__alloc_skb", 500],
             ["packet_rcv", 300], ["el0_svc", 200], ["uio_read", 100],
             ["pinion_bridge_rx", 50], ["schedule", 40], ["mystery_function", 10]]


def write(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def pinion_run(directory, scale=1, functions=None, status="ok", ios=10, with_functions=True):
    """A driver-VM run: two native PDs, one VM with one vCPU, kernel idle on core 0."""
    counts = {"plugin": "pinion-count", "version": 3, "mode": "exact", "guest": "pinion",
              "vcpus": 2, "per_vcpu": [], "markers": {}}
    if with_functions:
        counts["functions"] = {"symbols": "/x/linux.System.map", "phases": [
            {"phase": 0, "counts": [["virtnet_poll", 99999]]},
            {"phase": 1, "counts": [[n, c * scale] for n, c in (functions or FUNCTIONS)]}]}

    def instr(kernel, user, guest_kernel=0):
        return {"kernel": kernel * scale, "user": user * scale,
                "guest_kernel": guest_kernel * scale,
                "total": (kernel + user + guest_kernel) * scale}

    phase = {"pds": {"a": {"core": 0, "instructions": instr(200, 1000)},
                     "b": {"core": 0, "instructions": instr(100, 500)}},
             "vms": {"net_vm": {"vcpus": [{"vcpu": 0, "core": 1,
                                           "instructions": instr(300, 400, 4300)}],
                                "exits": {}}},
             "cores": [{"core": 0, "instructions": instr(350, 1500)},
                       {"core": 1, "instructions": instr(300, 400, 4300)}],
             "kernel_instructions": 650 * scale, "events": {}}
    summary = {"status": status, "command": "experiments/run systems/x.json --packets 10",
               "phases": {"0": phase, "1": phase}, "per_io": {"ios": ios}}
    if status != "ok":
        summary["reason"] = "made-up failure"
    write(directory / "counts.json", counts)
    write(directory / "summary.json", summary)
    return directory


def linux_run(directory):
    """A native-Linux run (experiments/net/linux-baseline): one core, owner 0."""
    counts = {"plugin": "pinion-count", "version": 3, "mode": "exact", "guest": "linux",
              "vcpus": 1, "markers": {},
              "per_vcpu": [{"vcpu": 0, "total": 5000, "phases": [
                  {"phase": 1, "owners": [{"owner": 0, "kernel": 0, "user": 600,
                                           "guest_kernel": 4000}]}]}],
              "functions": {"symbols": "/x/linux.System.map", "phases": [
                  {"phase": 1, "counts": [["__napi_poll", 3000], ["packet_rcv", 1000]]}]}}
    summary = {"status": "ok", "system": "native-linux", "command": "linux-baseline",
               "per_io": {"ios": 20, "guest_kernel": 200, "guest_user": 30}}
    write(directory / "counts.json", counts)
    write(directory / "summary.json", summary)
    return directory


class Folding(unittest.TestCase):
    def test_subsystems(self):
        expected = {
            "virtnet_poll": "virtio", "virtqueue_add_split": "virtio", "vring_interrupt": "virtio",
            "vm_interrupt": "virtio", "receive_buf": "virtio", "start_xmit": "virtio",
            "detach_buf_split": "virtio", "sg_init_table": "virtio",
            "__napi_poll": "netcore", "napi_gro_receive": "netcore", "net_rx_action": "netcore",
            "__netif_receive_skb_core.constprop.0": "netcore", "dev_hard_start_xmit": "netcore",
            "__dev_queue_xmit": "netcore", "sch_direct_xmit": "netcore",
            "eth_type_trans": "netcore", "ip_rcv_core": "netcore", "handle_softirqs": "netcore",
            "__napi_alloc_skb": "skb", "napi_consume_skb": "skb", "__alloc_skb": "skb",
            "kfree_skb_reason": "skb", "skb_clone": "skb", "skb_put": "skb",
            "kmem_cache_alloc_node": "skb", "__slab_free": "skb", "__memset": "skb",
            "get_page_from_freelist": "skb",
            "packet_rcv": "socket", "tpacket_rcv": "socket", "sock_wfree": "socket",
            "skb_copy_datagram_iter": "socket", "__skb_recv_datagram": "socket",
            "__arch_copy_to_user": "socket", "skb_set_owner_w": "socket",
            "el0_svc": "syscall", "el0t_64_sync": "syscall", "__arm64_sys_sendto": "syscall",
            "invoke_syscall.constprop.0": "syscall", "__sys_recvfrom": "syscall",
            "do_sys_poll": "syscall", "__fget_light": "syscall", "ret_to_user": "syscall",
            "uio_read": "uio", "uio_pdrv_genirq_handler": "uio",
            "pinion_bridge_rx": "pinion", "pinion_blk_serve": "pinion",
            "blk_mq_submit_bio": "block", "__blk_rq_map_sg": "block", "bio_alloc_bioset": "block",
            "submit_bio_noacct": "block", "sbitmap_get": "block", "virtio_queue_rq": "block",
            "virtblk_prep_rq.isra.0": "block", "blk_account_io_done": "block",
            "schedule": "sched", "__schedule": "sched", "do_idle": "sched",
            "try_to_wake_up": "sched", "ttwu_do_activate.isra.0": "sched",
            "enqueue_task_fair": "sched", "__wake_up_common": "sched",
            "sched_clock": "timer", "hrtimer_interrupt": "timer", "tick_nohz_idle_enter": "timer",
            "arch_timer_handler_virt": "timer", "ktime_get": "timer",
            "gic_handle_irq": "irq", "handle_fasteoi_irq": "irq", "el1_interrupt": "irq",
            "generic_handle_domain_irq": "irq", "el0t_64_irq_handler": "irq",
            "mystery_function": "other", "vm_area_alloc": "other", "mutex_lock": "other",
        }
        got = {name: prof.subsystem_of(name) for name in expected}
        self.assertEqual(got, expected)

    def test_every_rule_names_a_subsystem(self):
        known = {s for s, _ in prof.SUBSYSTEMS}
        self.assertTrue(all(s in known for s, _ in prof.RULES))
        self.assertEqual({m for _, _, members in prof.PARTS if members for m in members},
                         known | {prof.OUTSIDE_SYMBOLS})


class OneRun(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_per_io_and_composition(self):
        p = prof.load(pinion_run(self.tmp / "dvm"), "dvm", 1)
        self.assertEqual(len(p.runs), 1)
        self.assertEqual(p.functions["virtnet_poll"], 200)  # 2,000 over 10 packets
        self.assertEqual(p.guest_kernel, 430)
        self.assertAlmostEqual(p.share(p.functions["virtnet_poll"]), 200 / 430)
        self.assertEqual(p.subsystems["netcore"], 100)
        self.assertEqual(p.subsystems["skb"], 50)
        self.assertEqual(p.subsystems[prof.OUTSIDE_SYMBOLS], 10)
        self.assertAlmostEqual(p.attributed, 4200 / 4300)
        self.assertEqual(p.parts, {
            "native_pds": 150, "pinion_kernel_pds": 30, "pinion_kernel_vcpus": 30,
            "pinion_kernel_other": 5,  # 650 kernel in all, less 300 for PDs and 300 for vCPUs
            "guest_virtio": 200, "guest_block": 0, "guest_netcore": 150, "guest_socket": 30,
            "guest_syscall_uio": 30, "guest_pinion": 5,
            "guest_other": 15,  # schedule 4, mystery 1, outside every symbol 10
            "guest_user": 40, "total": 685})
        # The parts add up to every instruction the cores counted.
        self.assertEqual(p.parts["total"], (350 + 1500 + 300 + 400 + 4300) / 10)
        self.assertEqual([f[0] for f in p.ranked()[:3]],
                         ["virtnet_poll", "__napi_poll", "__alloc_skb"])

    def test_native_linux_run(self):
        p = prof.load(linux_run(self.tmp / "linux"), "linux", 1)
        self.assertTrue(p.linux)
        self.assertEqual(p.guest_kernel, 200)
        self.assertEqual(p.parts["pinion_kernel_vcpus"], 0)
        self.assertEqual(p.parts["native_pds"], 0)
        self.assertEqual(p.parts["guest_netcore"], 150)
        self.assertEqual(p.parts["guest_socket"], 50)
        self.assertEqual(p.parts["guest_user"], 30)
        self.assertEqual(p.parts["total"], 230)

    def test_other_phase(self):
        p = prof.load(pinion_run(self.tmp / "dvm"), "dvm", 0)
        self.assertEqual(list(p.functions), ["virtnet_poll"])
        with self.assertRaisesRegex(prof.ProfileError, "no function counted in phase 3"):
            prof.load(self.tmp / "dvm", "dvm", 3)

    def test_errors(self):
        with self.assertRaisesRegex(prof.ProfileError, "no such directory"):
            prof.load(self.tmp / "nowhere", "x", 1)
        (self.tmp / "empty").mkdir()
        with self.assertRaisesRegex(prof.ProfileError, "no counts.json"):
            prof.load(self.tmp / "empty", "x", 1)
        pinion_run(self.tmp / "nomap", with_functions=False)
        with self.assertRaisesRegex(prof.ProfileError, "no per-function counts.*System.map"):
            prof.load(self.tmp / "nomap", "x", 1)
        pinion_run(self.tmp / "noios", ios=0)
        with self.assertRaisesRegex(prof.ProfileError, "no per_io.ios"):
            prof.load(self.tmp / "noios", "x", 1)
        pinion_run(self.tmp / "failed", status="failed")
        with self.assertRaisesRegex(prof.ProfileError, "the run failed: made-up failure"):
            prof.load(self.tmp / "failed", "x", 1)
        pinion_run(self.tmp / "nosummary")
        (self.tmp / "nosummary/summary.json").unlink()
        with self.assertRaisesRegex(prof.ProfileError, "summary.json: missing"):
            prof.load(self.tmp / "nosummary", "x", 1)


class Repeated(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.repeat = self.tmp / "repeat"
        # Three runs at 1x, 3x and 2x: the median is the 2x run's, function by function;
        # a function only the first run has gets the median of (x, 0, 0) = 0.
        pinion_run(self.repeat / "run-1", scale=1, functions=FUNCTIONS + [["only_once", 70]])
        pinion_run(self.repeat / "run-2", scale=3)
        pinion_run(self.repeat / "run-3", scale=2)
        pinion_run(self.repeat / "run-10", status="failed")  # left out, with a note
        write(self.repeat / "summary.json", {"repeat": 4, "status": "failed",
                                             "command": "experiments/run x --repeat 4"})

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_medians(self):
        notes = []
        p = prof.load(self.repeat, "rep", 1, note=notes.append)
        self.assertEqual(len(p.runs), 3)
        self.assertEqual([r.dir.name for r in p.runs], ["run-1", "run-2", "run-3"])
        self.assertEqual(p.functions["virtnet_poll"], 400)
        self.assertEqual(p.functions["only_once"], 0)
        self.assertEqual(p.guest_kernel, 860)
        self.assertEqual(p.parts["total"], 1370)
        self.assertEqual(len(notes), 1)
        self.assertIn("run-10", notes[0])
        self.assertEqual(p.commands, ["experiments/run x --repeat 4"])

    def test_all_runs_failed(self):
        for d in ("run-1", "run-2", "run-3"):
            pinion_run(self.repeat / d, status="failed")
        with self.assertRaisesRegex(prof.ProfileError, "none of its 4 runs succeeded"):
            prof.load(self.repeat, "rep", 1)


class Tool(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        pinion_run(self.tmp / "dvm")
        linux_run(self.tmp / "linux")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_tool(self, *args):
        return subprocess.run([sys.executable, str(TOOL), *map(str, args)], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def rows(self, name):
        with open(self.tmp / "out" / name) as f:
            return list(csv.DictReader(f))

    def test_outputs(self):
        plots = [] if shutil.which("gnuplot") else ["--no-plot"]
        done = self.run_tool(self.tmp / "dvm", self.tmp / "linux", "--label", "driver VM",
                             "--label", "Linux", "--top", "3", "--out", self.tmp / "out", *plots)
        self.assertEqual(done.returncode, 0, done.stderr)
        functions = self.rows("functions.csv")
        self.assertEqual(functions[0], {"label": "driver VM", "function": "virtnet_poll",
                                        "subsystem": "virtio", "instructions_per_io": "200.0",
                                        "share_of_guest_kernel": str(round(200 / 430, 5))})
        subsystems = {(r["label"], r["subsystem"]): float(r["instructions_per_io"])
                      for r in self.rows("subsystems.csv")}
        self.assertEqual(subsystems[("Linux", "netcore")], 150)
        self.assertEqual(subsystems[("driver VM", prof.OUTSIDE_SYMBOLS)], 10)
        composition = self.rows("composition.csv")
        self.assertEqual([r["label"] for r in composition], ["driver VM", "Linux"])
        self.assertEqual(float(composition[0]["total"]), 685)
        self.assertEqual(composition[0]["runs"], "1")
        self.assertEqual(len(self.rows("top-functions-driver-VM.csv")), 3)
        md = (self.tmp / "out/profile.md").read_text()
        self.assertIn("| 1 | `virtnet_poll` | virtio | 200.0 | 46.5% |", md)
        self.assertIn("Largest functions in `other`", md)
        svg = xml.dom.minidom.parse(str(self.tmp / "out/flame-driver-VM.svg"))
        rects = svg.getElementsByTagName("rect")[1:]  # the first is the background
        self.assertEqual(len(rects), len(svg.getElementsByTagName("title")))
        self.assertTrue(rects)
        if not plots:
            for base in ("composition", "top-functions-driver-VM", "top-functions-Linux"):
                for ext in ("png", "svg"):
                    self.assertTrue((self.tmp / "out" / f"{base}.{ext}").exists(), base + ext)

    def test_messages(self):
        done = self.run_tool(self.tmp / "dvm", "--label", "a", "--label", "b", "--no-plot")
        self.assertEqual(done.returncode, 2)
        self.assertIn("2 --label for 1 run directories", done.stderr)
        pinion_run(self.tmp / "nomap", with_functions=False)
        done = self.run_tool(self.tmp / "nomap", "--out", self.tmp / "out", "--no-plot")
        self.assertEqual(done.returncode, 1)
        self.assertIn("no per-function counts", done.stderr)
        self.assertIn("System.map", done.stderr)
        done = self.run_tool(self.tmp / "dvm", self.tmp / "dvm", "--no-plot")
        self.assertEqual(done.returncode, 2)
        self.assertIn("labels must differ", done.stderr)
        done = self.run_tool("--help")
        self.assertEqual(done.returncode, 0)
        self.assertIn("subsystems", done.stdout)


if __name__ == "__main__":
    unittest.main()
