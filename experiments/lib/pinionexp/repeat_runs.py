"""Repeated runs: one command N times into OUT/run-1 .. OUT/run-N, and OUT/summary.json
combining their summaries (repeat.py: the median of every figure, with an interval).

Any command that writes a run directory with a summary.json in experiments/run's form
("status", "reason" when failed, and sections such as "per_io" and "total") can be
repeated: experiments/run --repeat N does it, and so can a script that compares
configurations:

    from pinionexp import repeat, repeat_runs
    combined = repeat_runs.run_repeated(
        lambda run_dir: ["experiments/run", "systems/net-echo.json", "--packets", "2000",
                         "--no-build", "--quiet", "--out", str(run_dir)],
        Path("results/echo-x5"), 5, command="experiments/run ... (5 runs)")
    figure = combined["per_io"]["all_instructions"]  # {"median", "low", "high", "n", ...}
    print(repeat.format_interval(figure))           # 1,522 [1,512–1,534]
    one_run_shape = combined["per_io_median"]       # what a single run's per_io looks like

The runs go one after another (they share the host, and a run's counts depend on how its
emulated cores interleave with the load generator). A run that fails does not stop the
others. OUT/summary.json is rewritten after every run, so it always says how far the runs
got; on Ctrl-C (or SIGTERM) the run in progress is interrupted, OUT/summary.json is marked
failed ("interrupted") over the runs completed, and KeyboardInterrupt is raised again.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import repeat

# The parts of a run's summary that are combined figure by figure.
SECTIONS = ("per_io", "total", "phases", "load")
# How long a run has to end after it is interrupted before it is killed.
INTERRUPT_GRACE_S = 30


@dataclass
class RunOutcome:
    index: int  # 1-based
    run_dir: Path
    status: str  # "ok" or "failed"
    reason: str  # why it failed; "" when ok
    summary: Optional[dict]  # the run's summary.json, or None when it wrote none
    seconds: float


def run_dir_of(out, index):
    return Path(out) / f"run-{index}"


def write_json_atomic(path, doc):
    """Through a temporary file beside `path` and a rename: whole or not at all."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_summary(run_dir):
    """A run's summary.json, or None when there is none or it is not JSON."""
    try:
        with open(Path(run_dir) / "summary.json") as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else None
    except (OSError, json.JSONDecodeError):
        return None


def combine(outcomes, repeat_count, command, interval=None, sections=SECTIONS,
            interrupted=False):
    """The combined summary of the runs so far (see docs/net.md, "Repeated runs"). Only
    runs whose status is ok are aggregated; each aggregate's "values" line up with "runs"
    (None for a failed run)."""
    interval = interval or repeat.Interval()
    ok = [o for o in outcomes if o.status == "ok"]
    usable = [o.summary if o.status == "ok" else None for o in outcomes]
    doc = {"repeat": repeat_count, "command": command,
           "runs": [str(o.run_dir) for o in outcomes],
           "failed_runs": [{"run": o.index, "dir": str(o.run_dir), "reason": o.reason}
                           for o in outcomes if o.status != "ok"],
           "interval": interval.to_json(len(ok))}
    for key in ("system", "cores", "plugin_mode", "owners"):
        found = [o.summary[key] for o in ok + outcomes if o.summary and key in o.summary]
        doc[key] = found[0] if found else None
    doc["faults"] = [dict(fault, run=o.index) for o in ok
                     for fault in (o.summary.get("faults") or [])]
    median = {k: doc[k] for k in ("system", "cores", "plugin_mode", "owners", "faults")}
    for section in sections:
        per_run = [s.get(section) if s else None for s in usable]
        if section == "per_io":
            doc["per_io_runs"] = per_run
        combined = repeat.aggregate(per_run, interval)
        doc[section] = combined
        median[section] = repeat.pick(combined) if combined is not None else None
    doc["per_io_median"] = median.get("per_io")
    doc["median"] = median

    done = len(outcomes)
    problems = [f"run {o.index} ({o.run_dir}): {o.reason}" for o in outcomes
                if o.status != "ok"]
    if interrupted:
        doc["interrupted"] = True
        problems.insert(0, f"interrupted after {len(ok)} complete run(s) of {repeat_count}")
    elif done < repeat_count:
        problems.insert(0, f"incomplete: {done} of {repeat_count} runs done")
    if problems:
        doc["status"] = "failed"
        doc["reason"] = "; ".join(problems)
    else:
        doc["status"] = "ok"
    return doc


def run_repeated(command_for: Callable[[Path], Sequence[str]], out, repeat_count: int, *,
                 command: str, cwd=None, progress: Callable[[str], None] = None,
                 echo=True, interval: "repeat.Interval" = None, sections=SECTIONS, env=None):
    """Runs command_for(OUT/run-i) for i = 1..repeat_count, one after another, each of
    which must write OUT/run-i/summary.json; writes OUT/summary.json (combine()) after
    every run and returns the final one. `command` is what the combined summary names as
    the command behind it. The runs' output goes to stderr (echo=False: kept back; its
    last lines explain a failure). Raises KeyboardInterrupt after writing OUT/summary.json
    when interrupted."""
    if repeat_count < 1:
        raise ValueError(f"repeat {repeat_count}: at least 1")
    progress = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []

    def write(interrupted=False):
        doc = combine(outcomes, repeat_count, command, interval, sections, interrupted)
        write_json_atomic(out / "summary.json", doc)
        return doc

    current = None  # (index, run directory, when it started) of the run under way
    with _sigterm_as_interrupt():
        try:
            doc = write()
            for index in range(1, repeat_count + 1):
                run_dir = run_dir_of(out, index)
                progress(f"run {index}/{repeat_count} into {run_dir}")
                current = (index, run_dir, time.monotonic())
                outcome = _run_one(index, run_dir, list(command_for(run_dir)), cwd, env, echo)
                current = None
                outcomes.append(outcome)
                if outcome.status == "ok":
                    progress(f"run {index}/{repeat_count}: ok in {outcome.seconds:.0f} s")
                else:
                    progress(f"run {index}/{repeat_count}: FAILED: {outcome.reason}")
                doc = write()
        except KeyboardInterrupt:
            if current is not None:
                index, run_dir, started = current
                outcomes.append(RunOutcome(index, run_dir, "failed", "interrupted",
                                           read_summary(run_dir), time.monotonic() - started))
            write(interrupted=True)
            raise
    return doc


@dataclass
class Job:
    """One configuration of an interleaved comparison (run_interleaved)."""
    name: str
    out: Path  # its runs go to OUT/run-1 .. OUT/run-N, its combined summary to OUT
    command_for: Callable[[Path], Sequence[str]]
    command: str


def run_interleaved(jobs, repeat_count, *, cwd=None, progress=None, interval=None,
                    sections=SECTIONS, env=None):
    """
    N runs of each job, round by round (every job's first run, then every job's second,
    ...) rather than job by job, so that a drift of the host's load over the minutes the
    runs take falls on every configuration alike. Writes each job's OUT/summary.json
    (combine()) after every round and returns {name: combined summary}. A job whose
    OUT/summary.json already holds repeat_count ok runs of the same command is not run
    again. Raises KeyboardInterrupt, after writing the summaries, when interrupted.
    """
    if repeat_count < 1:
        raise ValueError(f"repeat {repeat_count}: at least 1")
    progress = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    outcomes = {job.name: [] for job in jobs}
    done = {}
    for job in jobs:
        earlier = read_summary(job.out)
        if earlier and earlier.get("status") == "ok" and earlier.get("command") == job.command \
                and earlier.get("repeat") == repeat_count:
            progress(f"{job.name}: done before, {repeat_count} runs kept")
            done[job.name] = earlier
    pending = [job for job in jobs if job.name not in done]

    def write(job, interrupted=False):
        doc = combine(outcomes[job.name], repeat_count, job.command, interval, sections,
                      interrupted)
        Path(job.out).mkdir(parents=True, exist_ok=True)
        write_json_atomic(Path(job.out) / "summary.json", doc)
        return doc

    with _sigterm_as_interrupt():
        try:
            for index in range(1, repeat_count + 1):
                for job in pending:
                    run_dir = run_dir_of(job.out, index)
                    progress(f"{job.name}: run {index}/{repeat_count}")
                    outcome = _run_one(index, run_dir, list(job.command_for(run_dir)), cwd, env,
                                       False)
                    outcomes[job.name].append(outcome)
                    if outcome.status != "ok":
                        progress(f"{job.name}: run {index}/{repeat_count}: FAILED: "
                                 f"{outcome.reason}")
                    done[job.name] = write(job)
        except KeyboardInterrupt:
            for job in pending:
                write(job, interrupted=True)
            raise
    return done


def _run_one(index, run_dir, argv, cwd, env, echo):
    started = time.monotonic()
    # Its own process group, so that an interrupt reaches the run and everything it started
    # (QEMU, the load generator) exactly once, from here.
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", start_new_session=True)
    tail = deque(maxlen=20)
    try:
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            if echo:
                sys.stderr.write(line)
                sys.stderr.flush()
        proc.wait()
    except KeyboardInterrupt:
        _interrupt(proc)
        if read_summary(run_dir) is None and run_dir.is_dir():
            write_json_atomic(run_dir / "summary.json",
                              {"status": "failed", "reason": "interrupted",
                               "command": " ".join(argv)})
        raise
    finally:
        proc.stdout.close()
    summary = read_summary(run_dir)
    seconds = time.monotonic() - started
    if proc.returncode == 0 and summary is not None and summary.get("status") == "ok":
        return RunOutcome(index, run_dir, "ok", "", summary, seconds)
    return RunOutcome(index, run_dir, "failed", _why(proc.returncode, summary, tail, run_dir),
                      summary, seconds)


def _why(returncode, summary, tail, run_dir):
    if summary is not None and summary.get("status") != "ok":
        return summary.get("reason") or "the run's summary says failed"
    said = [line[5:] for line in tail if line.startswith("run: ")
            and not line.startswith("run: failed")]
    last = said[-1] if said else next((line for line in reversed(tail) if line.strip()), "")
    if returncode < 0:
        exited = f"killed by signal {-returncode}"
    else:
        exited = f"exited {returncode}"
    if summary is None:
        exited += f", no summary.json in {run_dir}"
    return f"{exited}: {last}" if last else exited


def _interrupt(proc):
    """SIGINT to the run's process group, as a Ctrl-C would; SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    try:
        proc.wait(INTERRUPT_GRACE_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class _sigterm_as_interrupt:
    """While repeating, SIGTERM ends the runs as Ctrl-C does (only the main thread can
    take signals; elsewhere SIGTERM keeps its handler)."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def argv_of(parser, args, drop=()):
    """Command-line arguments that parse back to `args` with `parser`, leaving out the
    options whose destinations are in `drop`: how a tool passes its own options on to each
    of the runs it repeats. Handles positionals, store_true flags, append options and
    options with one value (written OPTION=VALUE, so a value may begin with '-')."""
    positionals, options = [], []
    for action in parser._actions:
        if action.dest in drop or action.dest == "help":
            continue
        value = getattr(args, action.dest, None)
        if not action.option_strings:
            positionals += [str(v) for v in value] if isinstance(value, list) else [str(value)]
            continue
        flag = max(action.option_strings, key=len)
        if action.nargs == 0:  # store_true, store_false, store_const
            if value != action.default:
                options.append(flag)
        elif isinstance(value, list):
            options += [f"{flag}={v}" for v in value]
        elif value is not None and value != action.default:
            options.append(f"{flag}={value}")
    return positionals + options
