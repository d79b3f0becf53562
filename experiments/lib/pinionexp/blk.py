"""Block systems in experiments/run (docs/blk.md): the benchmark's options and their checks
before anything runs, the disk images, driving a run to its end, and what is checked after
it (the clients' counters, and each disk image from the host with pinion-blkimage).

A block system is one whose description has a virtio-blk device with partitions and
clients running blk_bench. Each client marks measurement phase 1 itself, once a first
request (a flush) shows that the path is up, and prints "blk_bench done" after its last
answer; once every client has, the runner starts phase 2 and ends the run, as it does for
the network echo after the load generator."""

import argparse
import json
import re
import subprocess

from . import runner, summary

BENCH_PROGRAM = "blk_bench"
# The native driver's line, or a driver VM's bridge's, in the kernel or not (docs/blk-dvm.md).
DRIVER_UP = re.compile(r"virtio-blk up|blk-bridge: up:")
DRIVER_UP_SECONDS = 120  # a driver VM boots Linux first
BRIDGE_UP = re.compile(r"blk-bridge: up:")
# The counters a driver VM's bridge prints once idle: the user-space one's
# ("blk-bridge: {...}") or the in-kernel one's ("pinion-blk-bridge: {...}").
BRIDGE_COUNTS = re.compile(r"blk-bridge: (\{[^\n]*\})")
BRIDGE_COUNTS_SECONDS = 5
CLIENT_DONE = re.compile(r"^(\S+): blk_bench done: ", re.MULTILINE)
# A native PD's fault ends a run at once. A driver VM's stop does so only before the driver
# came up: once the clients run, the virtualiser answers what the dead VM held, and every
# request after, with an error (docs/blk.md), so the clients finish and the run fails in
# finish() naming their errors and the stop.
FAULT = re.compile(r'^pinion: PD "([^"]+)" faulted[^\n]*', re.MULTILINE)
VM_STOP = re.compile(r'^pinion: VM "([^"]+)" stopped[^\n]*', re.MULTILINE)
# A benchmark client's counters that a sound run leaves at zero.
MUST_BE_ZERO = ("blocks_lost", "blocks_torn", "blocks_misplaced", "blocks_corrupt",
                "error_responses", "unexpected_responses", "ring_errors")
MIN_IO_SIZE, MAX_IO_SIZE = 4096, 1 << 20
MAX_DEPTH = 256  # blk_bench.c: a slot fits a request id's low byte
MAX_CHUNKS = 65536  # blk_bench_plan.h: the generations a client tracks
DEFAULT_BLOCK_SIZE = 512
# experiments/run's options and the client parameters they set.
OPTION_PARAMS = {"ios": "ios", "block_size": "io_size", "depth": "depth", "pattern": "pattern",
                 "mix": "mix"}
SIZE_SUFFIXES = {"": 1, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20,
                 "G": 1 << 30, "GiB": 1 << 30}


def mix_type(text):
    """--mix: read, write, or Nr (N percent reads, 1..99), as blk_sequence.h reads it."""
    match = re.fullmatch(r"([1-9][0-9]?)r", text)
    if text in ("read", "write") or match:
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: read, write, or Nr with N percent reads "
                                     "(1..99), e.g. 70r")


def io_size_type(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes") from None
    if not MIN_IO_SIZE <= value <= MAX_IO_SIZE:
        raise argparse.ArgumentTypeError(f"{value}: must be {MIN_IO_SIZE}..{MAX_IO_SIZE} bytes "
                                         "(4 KiB to 1 MiB)")
    return value


def depth_type(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_DEPTH:
        raise argparse.ArgumentTypeError(f"{value}: must be 1..{MAX_DEPTH} (and at most the "
                                         "clients' ring capacity)")
    return value


def add_options(parser, at_least_one):
    group = parser.add_argument_group(
        "block systems", "a virtio-blk device whose partitions go to blk_bench clients "
        "(docs/blk.md); --ios .. --mix set that parameter of every such client")
    group.add_argument("--ios", type=at_least_one, metavar="N",
                       help="requests each client makes in measurement phase 1")
    group.add_argument("--block-size", type=io_size_type, metavar="BYTES",
                       help="bytes per request: 4096..1048576, a multiple of the disk's block "
                       "size (client parameter io_size)")
    group.add_argument("--depth", type=depth_type, metavar="D",
                       help="requests each client keeps in flight: 1..its ring capacity")
    group.add_argument("--pattern", choices=["seq", "rand"],
                       help="sequential or random requests over the client's partition")
    group.add_argument("--mix", type=mix_type, metavar="read|write|Nr",
                       help="all reads, all writes, or N percent reads (70r)")
    group.add_argument("--keep", action="store_true",
                       help="keep the disk images (OUT/<device>.img) after the run")


def bench_clients(doc):
    """The names of the description's components that run the block benchmark."""
    return [pd["name"] for pd in doc.get("components", []) if pd.get("program") == BENCH_PROGRAM]


def settings(doc, args):
    """The options given, as --set's PD.KEY=VALUE for every benchmark client."""
    given = {param: getattr(args, option) for option, param in OPTION_PARAMS.items()
             if getattr(args, option) is not None}
    clients = bench_clients(doc)
    if given and not clients:
        options = ", ".join("--" + o.replace("_", "-") for o, p in OPTION_PARAMS.items()
                            if p in given)
        raise ValueError(f"{options}: for block systems, whose clients run {BENCH_PROGRAM}; "
                         "this description has none")
    return [f"{pd}.{key}={value}" for pd in clients for key, value in given.items()]


def parse_size(value):
    """A size as descriptions write it (4096, "0x1000", "64KiB"), or None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", value):
        return int(value, 16)
    match = re.fullmatch(r"([0-9]+)(K|KiB|M|MiB|G|GiB)?", value)
    return int(match.group(1)) * SIZE_SUFFIXES[match.group(2) or ""] if match else None


def _int_param(params, key):
    value = params.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def check_plans(doc):
    """What is wrong with any benchmark client's workload in this description (its
    parameters after the options), against its partition, ring and data region: a list of
    messages, empty when every client can run. The description itself is checked when it
    is packed; this names the options' mistakes before anything is built or booted."""
    problems = []
    partitions = {}
    for device in doc.get("devices", []):
        for partition in device.get("partitions", []) if isinstance(device, dict) else []:
            partitions[partition.get("client")] = (device, partition)
    pds = {pd["name"]: pd for pd in doc.get("components", [])}
    for name in bench_clients(doc):
        params = pds[name].get("params", {})
        if name not in partitions:
            problems.append(f"{name}: runs {BENCH_PROGRAM} but has no partition of a disk")
            continue
        device, partition = partitions[name]
        block = device.get("block_size", DEFAULT_BLOCK_SIZE)
        partition_size = parse_size(partition.get("size"))
        io_size, depth = _int_param(params, "io_size"), _int_param(params, "depth")
        capacity = _int_param(params, "capacity")
        data = _data_region_size(doc, name)
        if io_size is None or depth is None:
            problems.append(f"{name}: io_size and depth must be whole numbers "
                            "(--block-size, --depth)")
            continue
        if isinstance(block, int) and io_size % block != 0:
            problems.append(f"{name}: io_size {io_size} (--block-size) is not a multiple of "
                            f"the block size of disk {device.get('name')} ({block})")
        if partition_size is not None and io_size > partition_size:
            problems.append(f"{name}: io_size {io_size} (--block-size) is larger than its "
                            f"partition ({partition_size} bytes)")
        elif partition_size is not None and partition_size // io_size > MAX_CHUNKS:
            problems.append(f"{name}: its partition holds {partition_size // io_size} requests "
                            f"of io_size {io_size}; at most {MAX_CHUNKS} (a larger --block-size)")
        if capacity is not None and depth > capacity:
            problems.append(f"{name}: depth {depth} (--depth) is more than its ring capacity "
                            f"({capacity})")
        if data is not None and depth * io_size > data:
            problems.append(f"{name}: depth {depth} times io_size {io_size} is "
                            f"{depth * io_size} bytes in flight, but its data region holds "
                            f"{data} (a smaller --depth or --block-size)")
    return problems


def _data_region_size(doc, client):
    """The size of the region `client` maps as "data", or None when it cannot be told."""
    regions = {r.get("name"): r for r in doc.get("regions", [])}
    for m in doc.get("maps", []):
        if m.get("pd") == client and m.get("name", m.get("region")) == "data":
            return parse_size(regions.get(m.get("region"), {}).get("size"))
    return None


def create_disks(tools, system, disks):
    """Each disk image, its benchmark partitions at generation 0 (pinion-blkimage create)."""
    if disks and not tools.blkimage.exists():
        raise runner.RunError(f"not built: {tools.blkimage} (run `make build`)")
    for disk in disks:
        done = subprocess.run([str(tools.blkimage), "create", str(system), disk.name,
                               str(disk.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        if done.returncode != 0:
            raise runner.RunError(f"cannot create disk {disk.name!r}: {done.stderr.strip()}")


def remove_disks(disks):
    for disk in disks:
        disk.path.unlink(missing_ok=True)


def wait_for_bridge_counts(session):
    """A driver VM's bridge prints its counters once idle (its report_idle_ms): after the
    measured phase, wait a little for that line, so that what the bridge copied is known
    (bridge_counts()). Not having it fails nothing."""
    text = session.text()
    if not BRIDGE_UP.search(text):
        return
    start = text.rfind("blk_bench done:")
    session.wait_for(lambda t: BRIDGE_COUNTS.search(t, start) is not None, BRIDGE_COUNTS_SECONDS)


def bridge_counts(text):
    """The driver VM's bridge's last counters line (a dict), or None."""
    found = BRIDGE_COUNTS.findall(text)
    try:
        return json.loads(found[-1]) if found else None
    except ValueError:
        return None


def drive(args, cmd, out, clients):
    """Boots, waits for every client's last answer, marks phase 2 and ends the run.
    Returns QEMU's exit status (None if it had to be killed), the console text, and why
    the run failed (a native PD's fault, or a driver VM's stop before its driver came up:
    the run is ended at once, so that its counts say what happened) or None. A driver VM
    that stops later does not end the run: its clients finish with errors."""
    session = runner.Session(cmd, out / "console.log", args.quiet)
    console = out / "console.log"
    try:
        def fault(text):
            return FAULT.search(text)

        def fault_or_stop(text):
            return FAULT.search(text) or VM_STOP.search(text)

        def end(why):
            session.type(b"q")
            return session.finish(args.timeout), session.text(), why

        if not session.wait_for(lambda t: DRIVER_UP.search(t) or fault_or_stop(t),
                                DRIVER_UP_SECONDS):
            raise runner.RunError(f"the block driver did not come up within "
                                  f"{DRIVER_UP_SECONDS} s (console: {console})")
        if not DRIVER_UP.search(session.text()):
            return end(fault_or_stop(session.text()).group(0))
        if fault(session.text()):
            return end(fault(session.text()).group(0))
        runner.progress(f"{len(clients)} benchmark client(s) running", args.quiet)

        def finished(text):
            return set(CLIENT_DONE.findall(text)) >= set(clients)

        if not session.wait_for(lambda t: finished(t) or fault(t), args.timeout):
            missing = sorted(set(clients) - set(CLIENT_DONE.findall(session.text())))
            raise runner.RunError(f"{', '.join(missing)} did not finish within "
                                  f"{args.timeout:.0f} s (console: {console})")
        if fault(session.text()):
            return end(fault(session.text()).group(0))
        session.type(b"2")
        session.wait_for(lambda t: "pinion: phase 2" in t, 10)
        wait_for_bridge_counts(session)
        return end(None)
    except BaseException:
        session.kill()
        raise


def _failed_writes(system, disk_name, pd_counters):
    """CLIENT=N for each client of the disk whose first_failed_write counter is set: from
    that request of its sequence on, a write may or may not have reached the disk."""
    with open(system) as f:
        doc = json.load(f)
    clients = [p.get("client") for d in doc.get("devices", []) if d.get("name") == disk_name
               for p in d.get("partitions", [])]
    return [f"{c}={pd_counters[c]['first_failed_write']}" for c in clients
            if pd_counters.get(c, {}).get("first_failed_write")]


def verify_disks(tools, system, disks, pd_counters=None):
    """Each disk image checked from the host: {device: pinion-blkimage verify's report}.
    With the run's pd_counters, a client's failed writes leave their chunks uncertain."""
    reports = {}
    for disk in disks:
        failed = _failed_writes(system, disk.name, pd_counters) if pd_counters else []
        done = subprocess.run([str(tools.blkimage), "verify", str(system), disk.name,
                               str(disk.path)] + failed, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        try:
            reports[disk.name] = json.loads(done.stdout)
        except json.JSONDecodeError:
            reports[disk.name] = {"ok": False, "error": done.stderr.strip()}
    return reports


def _bad_disk(name, report):
    if "error" in report:
        return f"disk {name!r}: {report['error']}"
    for partition in report.get("partitions", []):
        if partition.get("bad_blocks"):
            first = partition["first_bad"]
            return (f"disk {name!r}: {partition['bad_blocks']} block(s) of {partition['client']}'s "
                    f"partition do not hold what it wrote (first: block {first['block']}, "
                    f"{first['verdict']}, expected generation {first['expected_generation']})")
    outside = report.get("outside", {})
    return (f"disk {name!r}: {outside.get('changed_bytes')} byte(s) outside every partition "
            f"changed (first at byte {outside.get('first_changed')})")


def _client_problems(name, counters, params):
    problems = []
    if counters.get("done") != 1:
        problems.append(f"{name} did not finish")
    ios = _int_param(params, "ios")
    if counters.get("requests") != ios:
        problems.append(f"{name} completed {counters.get('requests')} of {ios} requests")
    bad = {k: counters[k] for k in MUST_BE_ZERO if counters.get(k)}
    if bad:
        problems.append(f"{name}: {bad}")
    if counters.get("bad_sent", 0) != counters.get("bad_refused", 0):
        problems.append(f"{name}: {counters.get('bad_refused')} of its "
                        f"{counters.get('bad_sent')} malformed requests refused")
    return problems


def finish(doc, system_doc, clients, disk_reports):
    """Adds the block sections to a run's summary (per request and per KiB, the workload,
    the disk check) and marks it failed when a client or a disk is not as it must be."""
    pds = {pd["name"]: pd for pd in system_doc.get("components", [])}
    counters = {name: doc["pd_counters"].get(name, {}) for name in clients}
    requests = sum(c.get("requests", 0) for c in counters.values())
    moved = sum(c.get("read_bytes", 0) + c.get("written_bytes", 0) for c in counters.values())
    doc["per_io"] = summary.per_io(doc, requests, 1)
    per_kib = summary.per_io(doc, moved / 1024, 1)
    if per_kib is not None:
        per_kib["kib"] = round(per_kib.pop("ios"), 2)
    doc["per_kib"] = per_kib
    params = pds[clients[0]].get("params", {}) if clients else {}
    doc["blk"] = {"clients": len(clients), "requests": requests, "bytes": moved,
                  **{key: params.get(key) for key in ("io_size", "depth", "pattern", "mix")}}
    doc["disk_check"] = disk_reports
    problems = []
    for name in clients:
        problems += _client_problems(name, counters[name], pds[name].get("params", {}))
    problems += [_bad_disk(name, report) for name, report in disk_reports.items()
                 if not report.get("ok")]
    # A driver VM that stopped mid-run: its clients' errors above say what it cost them.
    problems += [f'VM "{name}" stopped: {vm.get("why")}'
                 for name, vm in doc.get("vm_states", {}).items() if vm.get("stopped")]
    if problems and doc.get("status") == "ok":
        doc["status"] = "failed"
        doc["reason"] = "; ".join(problems)
