"""Core-layout sweeps (experiments/sweep, docs/sweep.md).

What a sweep is made of, apart from running QEMU: the layouts `place
--enumerate` lists, turned into placement files; a deterministic sample
of them; `place --evaluate` for the prediction of each; and the sweep's
CSV, one row per run, appended atomically and read back to resume.
"""

import csv
import hashlib
import io
import json
import math
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BOARD = "qemu-virt-aarch64"
MAX_CORES = 4  # the research question's range on qemu-virt (DESIGN.md); the CSV has 4 core columns
POLICIES = ("immediate", "end_of_handler", "coalesce")
DEFAULT_COALESCE = (8, 50)  # count, window_us: the qemu-virt profile's coalesce_count/_window_us


class SweepError(Exception):
    """Bad input or a step that cannot go on; the message is for the user."""


# --- arguments -------------------------------------------------------------------------------


def parse_cores(text, limit=MAX_CORES):
    """'1..4', '2', '1,3', '2..3,1' -> sorted distinct core counts, each in 1..limit."""
    counts = set()
    for part in str(text).split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:\.\.(\d+))?", part)
        if not m:
            raise SweepError(f"--cores {text!r}: give N, A..B or a comma-separated list "
                             f"(e.g. 1..{limit})")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo > hi:
            raise SweepError(f"--cores {text!r}: {lo}..{hi} is an empty range")
        for n in range(lo, hi + 1):
            if not 1 <= n <= limit:
                raise SweepError(f"--cores {text!r}: {n} is out of range 1..{limit} "
                                 f"({BOARD} sweeps run 1 to {limit} cores)")
            counts.add(n)
    return sorted(counts)


def parse_batching(text):
    """'end_of_handler', 'all', 'immediate,coalesce', 'coalesce:16:100' -> list of labels.

    A label is a policy name; coalesce may carry COUNT:WINDOW_US (default 8:50, the
    profile's own). The label is what the CSV's batching column holds."""
    if text == "all":
        return list(POLICIES)
    labels = []
    for part in text.split(","):
        part = part.strip()
        policy_of(part)  # validates
        if part not in labels:
            labels.append(part)
    if not labels:
        raise SweepError("--batching: give a policy, a comma-separated list, or all")
    return labels


def policy_of(label):
    """A batching label -> the placement file's policy object."""
    name, _, rest = label.partition(":")
    if name not in POLICIES:
        raise SweepError(f"--batching {label!r}: unknown policy; one of "
                         f"{', '.join(POLICIES)}, or all")
    if name != "coalesce":
        if rest:
            raise SweepError(f"--batching {label!r}: only coalesce takes COUNT:WINDOW_US")
        return {"policy": name}
    count, window_us = DEFAULT_COALESCE
    if rest:
        m = re.fullmatch(r"(\d+):(\d+)", rest)
        if not m:
            raise SweepError(f"--batching {label!r}: expected coalesce:COUNT:WINDOW_US")
        count, window_us = int(m.group(1)), int(m.group(2))
        if not 1 <= count <= 65535 or not 1 <= window_us <= 1000000:
            raise SweepError(f"--batching {label!r}: COUNT 1..65535, WINDOW_US 1..1000000")
    return {"policy": "coalesce", "count": count, "window_us": window_us}


# --- layouts ---------------------------------------------------------------------------------


def canonical(cores):
    """Cores renumbered by first appearance: 2,2,0,1 -> 0,0,1,2 (all cores alike on qemu-virt)."""
    names = {}
    return tuple(names.setdefault(c, len(names)) for c in cores)


@dataclass(frozen=True)
class Layout:
    """Which core each entity (PD, or VM/vcpuK) runs on; entities in place's order."""

    entities: tuple
    cores: tuple
    polling: tuple = ()

    @property
    def id(self):
        """The cores in entity order, one digit each: 0001111."""
        return "".join(str(c) for c in self.cores)

    @property
    def n_cores(self):
        return len(set(self.cores))

    def pd_cores(self):
        """'ethernet_driver=0 net_virt_tx=0 ...' (the CSV's PD->core map)."""
        return " ".join(f"{e}={c}" for e, c in zip(self.entities, self.cores))

    def groups(self):
        """'0: a b | 1: c': what runs on each core."""
        parts = []
        for core in range(self.n_cores):
            names = [e for e, c in zip(self.entities, self.cores) if c == core]
            parts.append(f"{core}: " + " ".join(names))
        return " | ".join(parts)


def layouts_from_enumeration(doc):
    """Distinct layouts (canonical) from `place --enumerate --json`, in place's order."""
    layouts, seen, entities = [], set(), None
    for entry in doc.get("layouts", []):
        names = tuple(entry["cores"].keys())
        if entities is None:
            entities = names
        elif set(names) != set(entities):
            raise SweepError("place listed layouts of different entities")
        cores = canonical(tuple(entry["cores"][e] for e in entities))
        if cores in seen:
            continue
        seen.add(cores)
        layouts.append(Layout(entities, cores, tuple(entry.get("polling", []))))
    return layouts


def sample(layouts, k, seed):
    """Up to k layouts, chosen by a hash of (seed, layout id): the same every time, whatever
    the order they come in, and the sample for k is part of the sample for k + 1.
    Returns (chosen, sorted by id; whether it is a sample)."""
    ordered = sorted(layouts, key=lambda layout: layout.id)
    if k is None or len(ordered) <= k:
        return ordered, False

    def rank(layout):
        return hashlib.sha256(f"{seed}/{layout.id}".encode()).hexdigest()

    chosen = sorted(ordered, key=rank)[:k]
    return sorted(chosen, key=lambda layout: layout.id), True


def median_run(summaries):
    """The index of the run with the median instructions per packet (the lower middle one
    of an even number): the calibration run least disturbed either way."""
    if not summaries:
        raise SweepError("no calibration run")
    order = sorted(range(len(summaries)),
                   key=lambda i: summaries[i]["per_io"]["all_instructions"])
    return order[(len(order) - 1) // 2]


def layouts_by_batching(layouts, rows):
    """sweep.json's "layouts": {batching: {cores: {distinct, run, sampled, seed}}}. Earlier
    versions kept one {cores: ...} for the whole sweep: it holds for every policy in the rows
    so far."""
    if layouts and all(isinstance(v, dict) and "distinct" in v for v in layouts.values()):
        return {b: dict(layouts) for b in sorted({r["batching"] for r in rows})}
    return dict(layouts)


def layout_from_id(layout_id, entities):
    """A layout id (one core digit per entity, place's order) -> a canonical Layout."""
    if not re.fullmatch(r"[0-9]+", layout_id or "") or len(layout_id) != len(entities):
        raise SweepError(f"{layout_id!r}: expected {len(entities)} core digits, one per PD "
                         f"and vCPU in this order: {' '.join(entities)}")
    cores = tuple(int(c) for c in layout_id)
    if canonical(cores) != cores:
        raise SweepError(f"{layout_id!r}: number the cores by first use "
                         f"({''.join(map(str, canonical(cores)))})")
    if len(set(cores)) > MAX_CORES:
        raise SweepError(f"{layout_id!r}: more than {MAX_CORES} cores")
    return Layout(tuple(entities), cores)


def one_core_layout(entities):
    return Layout(tuple(entities), tuple(0 for _ in entities))


def placement_doc(system_doc, layout, batching_label):
    """The placement file (docs/placement-format.md) that runs `layout` with one batching policy
    for every channel."""
    vms = {vm["name"]: int(vm.get("vcpus", 1)) for vm in system_doc.get("vms", [])}
    pds, vcpus = {}, {}
    for entity, core in zip(layout.entities, layout.cores):
        vm, sep, which = entity.partition("/vcpu")
        if sep and vm in vms:
            vcpus.setdefault(vm, [None] * vms[vm])[int(which)] = core
        else:
            pds[entity] = core
    for vm, cores in vcpus.items():
        if None in cores:
            raise SweepError(f"layout {layout.id}: VM {vm} has a vCPU without a core")
        pds[vm] = cores[0]
    doc = {"system": system_doc["name"], "cores": max(layout.cores) + 1, "pds": pds}
    if vcpus:
        doc["vcpus"] = vcpus
    polling = sorted({e.partition("/vcpu")[0] for e in layout.polling})
    if polling:
        doc["polling"] = polling
    doc["batching"] = {"default": policy_of(batching_label)}
    return doc


# --- files -----------------------------------------------------------------------------------


def write_json_atomic(path, doc):
    """Writes JSON through a temporary file beside `path` and a rename: whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- the CSV ---------------------------------------------------------------------------------

CORE_COLUMNS = [f"core{c}_ipp" for c in range(MAX_CORES)]
PRED_UTIL_COLUMNS = [f"pred_core{c}_util" for c in range(MAX_CORES)]
PRED_CORE_COLUMNS = [f"pred_core{c}_ipp" for c in range(MAX_CORES)]
KEY_COLUMNS = ["system", "layout", "batching", "packets", "window"]
COLUMNS = (
    ["system", "layout", "cores", "pd_cores", "batching", "packets", "window", "status",
     "reason", "calibration_layout"]
    + CORE_COLUMNS
    + ["bottleneck_core", "bottleneck_ipp", "total_ipp", "kernel_ipp", "guest_kernel_ipp",
       "notifications_pp",
       "notify_cross_pp", "sgis_pp", "wakeups_pp", "device_irqs_pp", "vm_exits_pp", "virqs_pp"]
    + ["pred_load_per_s"] + PRED_UTIL_COLUMNS + PRED_CORE_COLUMNS
    + ["pred_bottleneck_core", "pred_bottleneck_ipp", "pred_total_ipp", "pred_notifications_pp",
       "pred_sgis_pp", "pred_note", "run_dir", "seconds", "command"]
)


def row_key(row):
    return tuple(str(row[c]) for c in KEY_COLUMNS)


def one_line(text):
    """A CSV field on one line: a row is a line, so a reader never sees half of one."""
    return " / ".join(s.strip() for s in str(text).splitlines() if s.strip())


class SweepCSV:
    """The sweep's CSV. Rows are appended one line at a time with a single write on an
    O_APPEND descriptor and fsync; on opening, a last line without its newline (a write
    cut short) is dropped, so every row read back is whole. The latest row of a key wins."""

    def __init__(self, path, columns=COLUMNS, repair=True):
        """repair: rewrite the file without a last line cut short (the sweep does, holding
        its directory's lock); readers pass False and leave the file alone."""
        self.path = Path(path)
        self.columns = list(columns)
        self.rows = []
        self.by_key = {}
        if self.path.exists():
            self._load(repair)

    def _load(self, repair):
        text = self.path.read_text()
        if text and not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]  # drop a row whose write was cut short
            if repair:
                write_text_atomic(self.path, text)
        if not text:
            return
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames != self.columns:
            raise SweepError(f"{self.path}: written with other columns than this sweep's "
                             "(an older version?); give another --out or move it away")
        for row in reader:
            self._remember(row)

    def _remember(self, row):
        self.rows.append(row)
        self.by_key[row_key(row)] = row

    def get(self, key):
        return self.by_key.get(tuple(str(k) for k in key))

    def _line(self, values):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(values)
        return buf.getvalue()

    def append(self, row):
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"unknown CSV columns: {sorted(unknown)}")
        clean = {c: one_line(_fmt(row.get(c, ""))) for c in self.columns}
        if not self.path.exists() or self.path.stat().st_size == 0:
            write_text_atomic(self.path, self._line(self.columns))
        data = self._line([clean[c] for c in self.columns]).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._remember(clean)


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.6g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def read_rows(path):
    """Every whole row of a sweep CSV (the latest per key), as dicts of strings; the file
    is only read (a sweep may be appending to it)."""
    return list(SweepCSV(path, repair=False).by_key.values())


def num(row, column):
    """A numeric cell, or None when empty."""
    value = row.get(column, "")
    return float(value) if value not in ("", None) else None


# --- measured and predicted figures -----------------------------------------------------------


def measured_fields(summary):
    """Per packet, from experiments/run's summary.json (phase 1 over the packets echoed)."""
    per = summary.get("per_io")
    if not per:
        return {}
    ipp = [c["instructions"]["total"] for c in per["cores"]]
    bottleneck = max(range(len(ipp)), key=lambda c: ipp[c])
    ev = per.get("events") or {}
    out = {f"core{c}_ipp": v for c, v in enumerate(ipp) if c < MAX_CORES}
    out.update({
        "bottleneck_core": bottleneck,
        "bottleneck_ipp": ipp[bottleneck],
        "total_ipp": per["all_instructions"],
        "kernel_ipp": round(sum(c["instructions"].get("kernel", 0) for c in per["cores"]), 2),
        "guest_kernel_ipp": round(sum(c["instructions"].get("guest_kernel", 0)
                                      for c in per["cores"]), 2),
        "notifications_pp": ev.get("notify_same_core", 0) + ev.get("notify_cross_core", 0),
        "notify_cross_pp": ev.get("notify_cross_core", 0),
        "sgis_pp": ev.get("sgi_sent", 0),
        "wakeups_pp": ev.get("wakeups", 0),
        "device_irqs_pp": ev.get("device_irqs", 0),
        "vm_exits_pp": ev.get("vm_exits", 0),
        "virqs_pp": ev.get("virqs", 0),
    })
    return out


def predicted_fields(doc, speed):
    """From `place --evaluate --json` at the load it was evaluated at: per core its
    utilisation and instructions per I/O (utilisation x speed / load)."""
    layout = doc["layouts"][0]
    pred = layout["predicted"]
    load = doc["load_per_s"]
    out = {"pred_load_per_s": round(load)}
    ipp = {}
    for core in pred["per_core"]:
        c = core["core"]
        if c >= MAX_CORES:
            continue
        out[f"pred_core{c}_util"] = round(core["util"], 4)
        ipp[c] = core["util"] * speed / load
        out[f"pred_core{c}_ipp"] = round(ipp[c], 2)
    if ipp:
        bottleneck = max(ipp, key=lambda c: ipp[c])
        out["pred_bottleneck_core"] = bottleneck
        out["pred_bottleneck_ipp"] = round(ipp[bottleneck], 2)
        out["pred_total_ipp"] = round(sum(ipp.values()), 2)
    out["pred_notifications_pp"] = round(sum(c["notifications_per_io"]
                                              for c in pred["per_core"]), 4)
    out["pred_sgis_pp"] = round(sum(c["sgis_per_io"] for c in pred["per_core"]), 4)
    return out


def profile_speed(profile):
    """Reference cycles per second of the profile's reference core (qemu-virt: 1e9, one
    instruction a nanosecond), and cycles per instruction: instructions per second."""
    ref = profile["reference"]["type"]
    core = profile.get("core_types", {}).get(ref)
    if not core:
        raise SweepError(f"profile {profile.get('profile')}: no core_types entry for {ref}")
    cpi = profile["reference"].get("cycles_per_instruction", {"value": 1})["value"]
    return core["mhz"] * 1e6 * core.get("capacity", 1024) / 1024 / cpi


# --- place -----------------------------------------------------------------------------------


class Place:
    """`place` for one system and profile on qemu-virt-aarch64."""

    def __init__(self, binary, system, profile, boards=None):
        self.binary = str(binary)
        self.system = str(system)
        self.profile = str(profile)
        self.boards = boards

    def _run(self, args):
        cmd = [self.binary, "--board", BOARD, "--system", self.system, "--profile",
               self.profile, "--quiet", "--json", "-"] + args
        if self.boards:
            cmd += ["--boards", str(self.boards)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SweepError(one_line(done.stderr) or f"place failed ({done.returncode})")
        return json.loads(done.stdout)

    def enumerate(self, n_cores):
        return self._run(["--cores", str(n_cores), "--enumerate", "--limit", "100000"])

    def evaluate(self, placement_path, n_cores, load=None):
        args = ["--cores", str(n_cores), "--evaluate", str(placement_path)]
        if load is not None:
            args += ["--load", f"{load}/s"]
        return self._run(args)

    def best(self, n_cores, policy="throughput"):
        """place's own choice on exactly n_cores (no coalescing: the sweeps' policies are
        one per run), as a canonical Layout."""
        doc = self._run(["--cores", str(n_cores), "--max-cores", str(n_cores), "--policy",
                         policy, "--no-coalesce", "--runners-up", "0"])
        return layouts_from_enumeration({"layouts": doc["layouts"][:1]})[0]

    def predict(self, placement_path, n_cores, load="saturate"):
        """The prediction at `load` I/Os per second, or at the layout's own throughput limit
        ("saturate": a closed loop with a full window keeps the bottleneck core busy)."""
        if load != "saturate":
            return self.evaluate(placement_path, n_cores, load)
        first = self.evaluate(placement_path, n_cores)
        limit = first["layouts"][0]["predicted"].get("throughput_per_s")
        if limit is None or not math.isfinite(limit) or limit < 1:
            raise SweepError(f"place predicts no throughput limit ({limit})")
        return self.evaluate(placement_path, n_cores, int(limit))


# --- runs ------------------------------------------------------------------------------------


def entities_of(system_doc):
    """What place places, in the description's order: components, then each VM's vCPUs."""
    names = [c["name"] for c in system_doc.get("components", [])]
    for vm in system_doc.get("vms", []):
        names += [f"{vm['name']}/vcpu{v}" for v in range(int(vm.get("vcpus", 1)))]
    return names


def label_dir(batching_label):
    """A batching label as a directory name: coalesce:8:50 -> coalesce-8-50."""
    return batching_label.replace(":", "-")


@dataclass
class Job:
    system: str  # the system's name
    layout: Layout
    batching: str
    packets: int
    window: int

    @property
    def key(self):
        return (self.system, self.layout.id, self.batching, self.packets, self.window)


@dataclass
class RunResult:
    status: str  # "ok" or "failed"
    reason: str
    summary: dict  # summary.json, or {} when there is none
    run_dir: str
    seconds: float
    command: str


def relative(path, base):
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)


class ExperimentRun:
    """Runs one placement with experiments/run and reads its summary.json."""

    def __init__(self, repo, system_path, build_dir, timeout=300, keep_images=False,
                 workload=None):
        self.repo = Path(repo)
        self.system_path = Path(system_path)
        self.build_dir = Path(build_dir)
        self.timeout = timeout
        self.keep_images = keep_images
        # experiments/run's options for a job's I/O: the echo's packets and window unless
        # the caller says otherwise (a block system's requests and depth).
        self.workload = workload or (lambda job: ["--packets", str(job.packets), "--window",
                                                  str(job.window)])

    def __call__(self, job, placement_path, run_dir):
        cmd = [str(self.repo / "experiments/run"), str(self.system_path), "--placement",
               str(placement_path), *self.workload(job),
               "--no-build", "--quiet", "--timeout", str(self.timeout), "--out", str(run_dir),
               "--build-dir", str(self.build_dir)]
        shown = ["experiments/run", relative(self.system_path, self.repo), "--placement",
                 relative(placement_path, self.repo), *self.workload(job), "--no-build"]
        started = time.monotonic()
        done = subprocess.run(cmd, cwd=self.repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        seconds = time.monotonic() - started
        summary = {}
        summary_path = Path(run_dir) / "summary.json"
        if summary_path.exists():
            try:
                summary = json.loads(summary_path.read_text())
            except json.JSONDecodeError:
                summary = {}
        if done.returncode == 0 and summary.get("status") == "ok" and summary.get("per_io"):
            status, reason = "ok", ""
        else:
            status = "failed"
            lines = [s for s in done.stderr.splitlines() if s.startswith("run: ")
                     and not s.startswith("run: failed")]
            if done.returncode < 0:
                exited = f"experiments/run was killed by signal {-done.returncode}"
            else:
                exited = f"experiments/run exited {done.returncode}"
            reason = summary.get("reason") or (lines[-1][5:] if lines else "") or \
                one_line(done.stderr)[-300:] or exited
        if not self.keep_images:
            image = Path(run_dir) / "image.elf"
            if image.exists():
                image.unlink()
        return RunResult(status, one_line(reason), summary, relative(run_dir, self.repo), seconds,
                         " ".join(shown))


def build_row(job, result, prediction, pred_note, calibration_layout):
    row = {"system": job.system, "layout": job.layout.id, "cores": job.layout.n_cores,
           "pd_cores": job.layout.pd_cores(), "batching": job.batching, "packets": job.packets,
           "window": job.window, "status": result.status, "reason": result.reason,
           "calibration_layout": "yes" if calibration_layout else "no",
           "run_dir": result.run_dir, "seconds": round(result.seconds, 1),
           "command": result.command}
    if result.status == "ok":
        row.update(measured_fields(result.summary))
    row.update(prediction or {})
    row["pred_note"] = pred_note or ""
    return row


def run_jobs(jobs, table, run_fn, predict_fn, paths, progress, retry_failed=False,
             calibration_id=None):
    """Runs every job whose key has no row in `table` yet (or only a failed one, with
    retry_failed), appending one row per run. run_fn(job, placement, run_dir) -> RunResult;
    predict_fn(job, placement) -> dict of pred_* fields (raises SweepError: no prediction);
    paths(job) -> (placement file, run dir), the placement already written.
    Returns (ran, skipped, failed)."""
    todo = []
    for job in jobs:
        row = table.get(job.key)
        if row is None or (retry_failed and row["status"] != "ok"):
            todo.append(job)
    skipped = len(jobs) - len(todo)
    if skipped:
        progress(f"{skipped} of {len(jobs)} runs already in {table.path}: skipped")
    failed = 0
    for i, job in enumerate(todo, 1):
        placement, run_dir = paths(job)
        head = (f"[{i}/{len(todo)}] layout {job.layout.id} ({job.layout.n_cores} "
                f"core{'s' if job.layout.n_cores > 1 else ''}, {job.batching}): "
                f"{job.layout.groups()}")
        progress(head)
        result = run_fn(job, placement, run_dir)
        prediction, note = None, ""
        try:
            prediction = predict_fn(job, placement)
        except SweepError as err:
            note = f"place: {err}"
        row = build_row(job, result, prediction, note, job.layout.id == calibration_id)
        table.append(row)
        if result.status == "ok":
            measured = row["bottleneck_ipp"]
            pred = prediction.get("pred_bottleneck_ipp") if prediction else None
            progress(f"      ok in {result.seconds:.1f} s: bottleneck core "
                     f"{row['bottleneck_core']} {measured:,.0f} instructions per I/O"
                     + (f" (predicted {pred:,.0f})" if pred is not None else "")
                     + f", total {row['total_ipp']:,.0f}")
        else:
            failed += 1
            progress(f"      FAILED: {result.reason}")
    return len(todo), skipped, failed
