"""Build, pack and boot a pinion system under the instruction counter."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
OWNER_KERNEL = 0


class RunError(Exception):
    """A run that could not be made; the message says why, for the user."""


def progress(message, quiet=False):
    if not quiet:
        print(f"[run] {message}", file=sys.stderr, flush=True)


class Tools:
    """Where the build put what a run needs."""

    def __init__(self, build_dir):
        self.build = Path(build_dir).resolve()
        self.image = self.build / "tools/image/pinion-image"
        self.kernel = self.build / "target/kernel/pinion-kernel.elf"
        self.programs = self.build / "target/programs"
        self.plugin = self.build / "experiments/plugin/pinion-count.so"

    def build_all(self, quiet=False):
        progress(f"building ({self.build})", quiet)
        configure = ["cmake", "-S", str(REPO), "-B", str(self.build),
                     "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
        jobs = str(os.cpu_count() or 2)
        for cmd in (configure, ["cmake", "--build", str(self.build), "-j", jobs]):
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                raise RunError(f"build failed ({' '.join(cmd)}):\n{done.stdout[-4000:]}")

    def check(self, need_plugin=True):
        needed = [self.image, self.kernel, self.programs]
        if need_plugin:
            needed.append(self.plugin)
        missing = [str(p) for p in needed if not p.exists()]
        if missing:
            raise RunError("not built: " + ", ".join(missing) + " (run `make build`)")


def pack(tools, system, placement, out_dir, memory="1GiB"):
    image = out_dir / "image.elf"
    manifest = out_dir / "manifest.json"
    cmd = [str(tools.image), "--system", str(system), "--kernel", str(tools.kernel),
           "--programs", str(tools.programs), "--memory", memory,
           "-o", str(image), "--manifest", str(manifest)]
    if placement:
        cmd += ["--placement", str(placement)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RunError(done.stderr.strip() or f"pinion-image failed ({done.returncode})")
    with open(manifest) as f:
        return image, json.load(f)


def qemu_command(image, cores, memory_mib, plugin=None, plugin_out=None, plugin_mode="exact",
                 extra=()):
    cmd = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3",
           "-cpu", "cortex-a72", "-smp", str(cores), "-m", f"{memory_mib}M",
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-nic", "none",
           "-kernel", str(image)]
    if plugin:
        cmd += ["-plugin", f"{plugin},out={plugin_out},mode={plugin_mode}"]
    return cmd + list(extra)


def boot(cmd, console_path, timeout, quiet=False, stop_when=None, stop_input=b"q"):
    """
    Runs QEMU until it powers off (the kernel ends the run) or `timeout`
    seconds pass. When stop_when(console_text) becomes true, stop_input is
    typed at the console so the kernel ends the run and reports.
    Returns (exit status or None on timeout, console text).
    """
    start = time.monotonic()
    with open(console_path, "wb") as console:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        chunks = []

        def pump():
            for chunk in iter(lambda: proc.stdout.read1(4096), b""):
                console.write(chunk)
                console.flush()
                chunks.append(chunk)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        stopped = False
        last_report = start
        while proc.poll() is None:
            now = time.monotonic()
            if now - start > timeout:
                proc.kill()
                proc.wait()
                reader.join(5)
                return None, b"".join(chunks).decode(errors="replace")
            if stop_when and not stopped and stop_when(b"".join(chunks).decode(errors="replace")):
                proc.stdin.write(stop_input)
                proc.stdin.flush()
                stopped = True
            if now - last_report >= 10:
                progress(f"... {now - start:.0f} s", quiet)
                last_report = now
            time.sleep(0.05)
        reader.join(5)
        return proc.returncode, b"".join(chunks).decode(errors="replace")
