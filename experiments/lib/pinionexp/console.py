"""What the kernel prints: its counter lines, PD lines, faults and the end of a run."""

import json
import re

FAULT = re.compile(r'^pinion: PD "([^"]+)" faulted on core (\d+): (.*)$')
ENDED = re.compile(r"^pinion: run ended: (.*)$")
VM_STOPPED = re.compile(r'^pinion: VM "([^"]+)" stopped: (.*)$')


class ConsoleReport:
    def __init__(self):
        self.core_events = {}  # (core, phase) -> {event: count}
        self.pds = {}  # name -> {"owner", "core", "state", "counters"}
        self.faults = []  # {"pd", "core", "what"}
        self.ended = None  # why the run ended, or None
        self.vms = {}  # name -> the kernel's pinion-vm record: vCPUs, exits per phase, MMIO
        self.vm_stops = {}  # name -> why the VM stopped
        self.malformed = []

    @classmethod
    def parse(cls, text):
        report = cls()
        for line in text.splitlines():
            line = line.rstrip("\r")
            if line.startswith("pinion-counters "):
                try:
                    record = json.loads(line[len("pinion-counters "):])
                    key = (record.pop("core"), record.pop("phase"))
                    report.core_events[key] = record
                except (ValueError, KeyError) as err:
                    report.malformed.append(f"{line!r}: {err}")
            elif line.startswith("pinion-pd "):
                try:
                    record = json.loads(line[len("pinion-pd "):])
                    report.pds[record.pop("pd")] = record
                except (ValueError, KeyError) as err:
                    report.malformed.append(f"{line!r}: {err}")
            elif line.startswith("pinion-vm "):
                try:
                    record = json.loads(line[len("pinion-vm "):])
                    report.vms[record.pop("vm")] = record
                except (ValueError, KeyError) as err:
                    report.malformed.append(f"{line!r}: {err}")
            elif (m := VM_STOPPED.match(line)):
                report.vm_stops.setdefault(m.group(1), m.group(2))
            elif (m := FAULT.match(line)):
                report.faults.append({"pd": m.group(1), "core": int(m.group(2)), "what": m.group(3)})
            elif (m := ENDED.match(line)):
                report.ended = m.group(1)
        return report
