"""
Unit tests of experiments/lib/pinionexp/net_rows.py: one echoed packet's
cost as a row, from made-up run directories of both kinds (a pinion run with
a driver VM, a native-Linux run): instructions per core and by part, exits,
bytes copied (the copier's, the bridge's, twice the receive copy with a
receive ring), and a polling vCPU's waiting taken off the core it spun on.
"""
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments/lib"))
from pinionexp.net_rows import row_of  # noqa: E402

PACKETS = 1000


def pinion_summary():
    cores = [{"core": 0, "instructions": {"kernel": 100_000, "user": 900_000,
                                          "guest_kernel": 0, "total": 1_000_000},
              "events": {}},
             {"core": 1, "instructions": {"kernel": 50_000, "user": 0,
                                          "guest_kernel": 20_000_000, "total": 20_050_000},
              "events": {}}]
    return {
        "per_io": {"ios": PACKETS},
        "pd_counters": {"client0_net_copier": {"copied_bytes": 106_000}},
        "phases": {"1": {
            "pds": {"mux": {"instructions": {"user": 900_000, "kernel": 10}}},
            "cores": cores,
            "vms": {"net_vm": {"vcpus": [{"vcpu": 0, "core": 1, "instructions": {
                "guest_kernel": 20_000_000, "user": 0, "kernel": 50_000}}],
                "exits": {"doorbell": 50, "irq": 150, "virqs": 200}}},
            "events": {"notify_same_core": 300, "notify_cross_core": 200, "sgi_sent": 100}}},
    }


BRIDGE = {"rx_frames": 2000, "tx_frames": 2000, "rx_bytes": 212_000, "tx_bytes": 212_000}


class Rows(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, summary, console="", functions=None):
        (self.dir / "summary.json").write_text(json.dumps(summary))
        (self.dir / "console.log").write_text(console)
        if functions is not None:
            (self.dir / "counts.json").write_text(json.dumps(
                {"functions": {"phases": [{"phase": 1, "counts": functions}]}}))

    def test_driver_vm_run(self):
        self.write(pinion_summary(), f"net_vm: pinion-net-bridge: {json.dumps(BRIDGE)}\n")
        row = row_of(self.dir)
        self.assertEqual(row["per_core"], [1000, 20050])
        self.assertEqual(row["total"], 21050)
        self.assertEqual(row["bottleneck"], 20050)
        self.assertEqual(row["native_pds"], 900)
        self.assertEqual(row["pinion_kernel"], 150)
        self.assertEqual(row["guest_kernel"], 20000)
        self.assertEqual(row["exits_total"], 0.2)
        self.assertEqual(row["virqs"], 0.2)
        self.assertEqual(row["notifications"], 0.5)
        self.assertEqual(row["sgis"], 0.1)
        # The copier's 106, and the bridge's receive and transmit copies of 106 each.
        self.assertEqual(row["bytes_copied"], 318)
        self.assertEqual(row["waiting"], 0)
        self.assertEqual(row["useful_bottleneck"], 20050)

    def test_receive_ring_copies_twice(self):
        console = ("net-bridge: receive: ring v2 (256 frames of 2048 bytes); transmit: "
                   f"send per frame\nnet-bridge: {json.dumps(BRIDGE)}\n")
        self.write(pinion_summary(), console)
        self.assertEqual(row_of(self.dir)["bytes_copied"], 424)

    def test_polling_waiting_left_out(self):
        functions = [["pinion_bridge_poll_idle", 15_000_000], ["virtqueue_add_split", 280_000]]
        self.write(pinion_summary(), "", functions)
        row = row_of(self.dir)
        self.assertEqual(row["waiting"], 15000)
        self.assertEqual(row["useful_per_core"], [1000, 5050])
        self.assertEqual(row["useful_total"], 6050)
        self.assertEqual(row["useful_bottleneck"], 5050)
        self.assertEqual(row["bottleneck"], 20050)
        self.assertEqual(row["guest_kernel"], 5000)

    def test_native_linux_run(self):
        summary = {"answered_by": "l2-echo over a packet socket",
                   "echo_counts": {"bytes_copied": 212_000},
                   "per_io": {"ios": PACKETS, "cores": [{"total": 8000.4}],
                              "all_instructions": 8000.4, "guest_kernel": 7500.2,
                              "guest_user": 500.2}}
        self.write(summary)
        row = row_of(self.dir)
        self.assertEqual(row["per_core"], [8000])
        self.assertEqual(row["guest_kernel"], 7500)
        self.assertEqual(row["pinion_kernel"], 0)
        self.assertEqual(row["bytes_copied"], 212)
        self.assertEqual(row["bottleneck"], 8000)


if __name__ == "__main__":
    unittest.main()
