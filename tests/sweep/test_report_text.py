"""docs/REPORT.md's text (experiments/lib/pinionexp/report_text.py) from made-up results."""

import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments/lib"))
from pinionexp import report_text  # noqa: E402


def row(name, kind, cores, per_core, **kw):
    base = {"name": name, "kind": kind, "cores": str(cores), "total": str(sum(per_core)),
            "per_core": " ".join(map(str, per_core)), "native_pds": "0", "pinion_kernel": "0",
            "guest_kernel": "0", "guest_user": "0", "exits_total": "0", "virqs": "0",
            "bytes_copied": "106", "notifications": "0.5", "sgis": "0.1"}
    base.update({k: str(v) for k, v in kw.items()})
    return base


COMPARE = [
    row("native-1core", "native", 1, [1000]),
    row("native-2core", "native", 2, [600, 500]),
    row("dvm-1core", "driver VM", 1, [6000], guest_kernel=4800),
    row("dvm-2core", "driver VM", 2, [700, 4800], guest_kernel=4700),
    row("linux-1core", "Linux", 1, [9000], guest_kernel=8900, guest_user=100),
]
BOOT = [{"variant": "1 vCPU, quiet", "guest_instructions": "70", "guest_kernel": "69",
         "guest_user": "1", "kernel_instructions_on_vcpu_cores": "5", "exits": "3", "virqs": "2"}]
PLACEMENT = {"policy": "throughput", "load_per_s": 1.0, "cores": {"a": 0, "b": 1},
             "batching": {"ab": "end_of_handler"}, "solver": "exact", "command": "place ...",
             "predicted": {"cores_used": 2, "throughput_mbps": 1891.2, "latency_us": 507.6,
                           "max_util": 0.44, "total_cpu": 1.14}}
COMMANDS = {k: f"cmd-{k}" for k in ("compare", "boot", "native_sweep", "dvm_sweep",
                                    "batching_sweep", "figures")}


class ReportText(unittest.TestCase):
    def render(self, anchors=None):
        return report_text.render(compare=COMPARE, boot=BOOT,
                                  figures_md="# Sweeps\n\n![hidden](hidden.png)\n[up](../x.md)\n",
                                  figures_dir=Path("report"), placements=[PLACEMENT],
                                  commands=COMMANDS, anchors=anchors or {})

    def test_ratios_compare_like_with_like(self):
        text = self.render()
        # dvm-1core / native-1core = 6.0, dvm-2core / native-2core = 5.0.
        self.assertIn("costs 5.0 to 6.0 times the\n  native path on the same number of cores",
                      text)
        self.assertIn("Linux alone costs 9,000 per packet\n  (9.0 times", text)
        # The best driver-VM bottleneck core (4,800) against the whole one-core driver VM.
        self.assertIn("carries 4,800 instructions per packet against\n  6,000", text)

    def test_tables_and_commands(self):
        text = self.render()
        self.assertIn("| dvm-2core | 2 | 700 / 4,800 | 5,500 |", text)
        self.assertIn("| 1 vCPU, quiet | 70 | 69 | 1 | 5 | 3 | 2 |", text)
        self.assertIn("| throughput | 2 | 0: a; 1: b | ab end_of_handler | 1,891 | 508 | 0.44 | "
                      "1.14 |", text)
        for command in COMMANDS.values():
            self.assertIn(f"`{command}`", text)

    def test_sweep_section_is_nested_and_its_files_found_from_docs(self):
        text = self.render()
        self.assertIn("\n## Sweeps\n", text)
        self.assertIn("![hidden](report/hidden.png)", text)
        self.assertIn("[up](../x.md)", text)  # a link out of the figures stays as it was

    def test_anchors_from_csv(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp) / "sddf-imx8mm"
            d.mkdir()
            (d / "sddf-5pd.csv").write_text("load-req,load-ach,CPU,cycles/pkt,RTT mean\n"
                                            "100,100.00,0.20,22000.0,449\n#,Source: x\n")
            (d / "linux.csv").write_text("load-req,load-ach,CPU,cycles,RTT mean\n"
                                         "100,100,0.30,,1132\n# 100,100,0.9,,1\n")
            anchors = report_text.load_anchors(tmp)
        self.assertEqual(anchors["sddf-5pd"][100], (0.2, 22000.0))
        self.assertEqual(anchors["linux"][100], (0.3, None))
        self.assertIn("| 100 | 0.20 | 22,000 | 0.300 | 1.50 |", self.render(anchors))


    def test_storage_section(self):
        def blk(name, io_path, busiest=0):
            return {"name": name, "io_path_median": str(io_path), "busiest_median": str(busiest)}

        storage = {"md": "| the compare table |\n",
                   "rows": [blk("native-1core-4k-rand-70r", 750),
                            blk("dvm-1core-4k-rand-70r", 4500),
                            blk("dvm-uio-1core-4k-rand-70r", 15000),
                            blk("linux-1core-4k-rand-70r", 4875),
                            blk("native-4core-4k-rand-70r", 0, 2100),
                            blk("dvm-4core-4k-rand-70r", 0, 3900)]}
        commands = dict(COMMANDS, blk_compare="cmd-blk")
        text = report_text.render(compare=COMPARE, boot=BOOT, figures_md="", placements=[],
                                  figures_dir=Path("report"), commands=commands, anchors={},
                                  storage=storage)
        self.assertIn("## Storage: the block queues, natively and in a driver VM", text)
        self.assertIn("`cmd-blk`", text)
        self.assertIn("| the compare table |", text)
        self.assertIn("native 750; driver VM with the in-kernel bridge 4,500 (6.0×), with the "
                      "LionsOS-style user-space bridge 15,000 (20.0×); Linux alone on the "
                      "machine 4,875 (6.5×).", text)
        # No 64 KiB rows: no line for that workload.
        self.assertNotIn("64 KiB sequential reads, 4 in flight**", text)
        self.assertIn("busiest core carries 2,100 (native), 3,900 (in-kernel bridge)", text)
        # Without storage results the section is left out.
        self.assertNotIn("## Storage", self.render())


if __name__ == "__main__":
    unittest.main()
