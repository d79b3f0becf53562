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
        self.guests = self.build / "guests"  # guest kernels and initramfs images (driver-vms/)
        self.plugin = self.build / "experiments/plugin/pinion-count.so"
        self.loadgen = self.build / "experiments/loadgen/pinion-loadgen"
        self.blkimage = self.build / "tools/blkimage/pinion-blkimage"

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


def set_params(doc, settings):
    """Sets each PD.KEY=VALUE (experiments/run's --set, or what the block options
    generate) in the description `doc`; ValueError names a setting that names no PD."""
    pds = {pd["name"]: pd for pd in doc.get("components", []) + doc.get("vms", [])}
    for setting in settings:
        target, _, value = setting.partition("=")
        pd_name, _, key = target.partition(".")
        if not value or not key or pd_name not in pds:
            raise ValueError(f"{setting!r}: expected PD.KEY=VALUE with PD one of "
                             + ", ".join(sorted(pds)))
        pds[pd_name].setdefault("params", {})[key] = int(value) if value.isdigit() else value


def pack(tools, system, placement, out_dir, memory="1GiB"):
    image = out_dir / "image.elf"
    manifest = out_dir / "manifest.json"
    cmd = [str(tools.image), "--system", str(system), "--kernel", str(tools.kernel),
           "--programs", str(tools.programs), "--memory", memory,
           "--guests", str(tools.guests), "-o", str(image), "--manifest", str(manifest)]
    if placement:
        cmd += ["--placement", str(placement)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RunError(done.stderr.strip() or f"pinion-image failed ({done.returncode})")
    with open(manifest) as f:
        return image, json.load(f)


def free_udp_port():
    """A UDP port on loopback that nothing uses now."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NetDevice:
    """A virtio-net device on a QEMU UDP socket backend: what the load generator talks to."""

    def __init__(self, name, mac):
        self.name = name
        self.mac = mac
        self.loadgen_port = free_udp_port()  # QEMU sends the guest's frames here
        self.qemu_port = free_udp_port()  # and receives frames for the guest here

    def qemu_args(self):
        mac = f",mac={self.mac}" if self.mac else ""
        return ["-netdev", f"socket,id={self.name},udp=127.0.0.1:{self.loadgen_port},"
                f"localaddr=127.0.0.1:{self.qemu_port}",
                "-device", f"virtio-net-device,netdev={self.name}{mac}"]


class Disk:
    """A virtio-blk device on a raw disk image in the run's directory (docs/blk.md)."""

    def __init__(self, name, path, block_size):
        self.name = name
        self.path = Path(path)
        self.block_size = block_size

    def qemu_args(self):
        path = str(self.path.resolve()).replace(",", ",,")  # QEMU's escape for a comma
        size = self.block_size
        return ["-drive", f"if=none,id={self.name},file={path},format=raw",
                "-device", f"virtio-blk-device,drive={self.name},logical_block_size={size},"
                f"physical_block_size={size}"]


def device_args(manifest, disk_dir=None):
    """QEMU options for the manifest's devices, and the network devices and disks among
    them. A disk's image is disk_dir/<device>.img, which the caller creates."""
    devices = sorted(manifest.get("devices", []), key=lambda d: -d["slot"])
    args, nets, disks = [], [], []
    for expected, device in zip(range(31, -1, -1), devices):
        if device["slot"] != expected:
            raise RunError(f"device {device['name']!r} is on virtio-mmio slot {device['slot']}, "
                           f"but QEMU fills slots from 31 down: use slot {expected}")
        if device["kind"] == "virtio-net":
            net = NetDevice(device["name"], device.get("mac"))
            args += net.qemu_args()
            nets.append(net)
        elif device["kind"] == "virtio-blk" and disk_dir is not None:
            disk = Disk(device["name"], Path(disk_dir) / f"{device['name']}.img",
                        device["block_size"])
            args += disk.qemu_args()
            disks.append(disk)
        else:
            raise RunError(f"device {device['name']!r}: {device['kind']} devices are not "
                           "supported by experiments/run yet")
    if devices:
        args = ["-global", "virtio-mmio.force-legacy=false"] + args
    return args, nets, disks


def plugin_argument(plugin, out, mode="exact", guest=None, symbols=None):
    """The value of QEMU's -plugin option for pinion-count (docs/accounting.md): its
    report goes to `out`; guest="linux" for a Linux booted directly; symbols: a guest
    kernel's System.map, to count instructions per function as well."""
    values = [f"out={out}", f"mode={mode}"]
    if guest:
        values.append(f"guest={guest}")
    if symbols:
        values.append(f"symbols={symbols}")
    for value in values:
        if "," in value:  # QEMU splits the plugin's arguments at commas
            raise RunError(f"plugin argument {value!r}: a path with a comma cannot be passed")
    return ",".join([str(plugin)] + values)


def symbols_beside(kernel_image):
    """The System.map the build put beside a guest kernel (linux.Image:
    linux.System.map), or None when there is none."""
    image = Path(kernel_image)
    candidate = image.with_name(image.stem + ".System.map")
    return candidate if candidate.is_file() else None


def guest_symbols(manifest, choice=None):
    """
    The System.map to count a run's guest kernel per function with, and a line saying
    what was chosen and why (or None). choice: None (automatic: the map beside the
    VMs' kernel, if they all run the same one), "none", or a path.
    """
    if choice == "none":
        return None, None
    if choice:
        if not Path(choice).is_file():
            raise RunError(f"--symbols {choice}: no such file")
        return Path(choice), f"guest kernel symbols: {choice}"
    kernels = sorted({vm["kernel"] for vm in manifest.get("vms", []) if vm.get("kernel")})
    if not kernels:
        return None, None
    if len(kernels) > 1:
        return None, ("VMs run different kernels (" + ", ".join(kernels) + "): no "
                      "per-function counts (--symbols PATH picks one map for all)")
    found = symbols_beside(kernels[0])
    if found is None:
        return None, (f"no System.map beside {kernels[0]}: no per-function counts")
    return found, f"guest kernel symbols: {found}"


def qemu_command(image, cores, memory_mib, plugin=None, plugin_out=None, plugin_mode="exact",
                 extra=(), symbols=None):
    cmd = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3",
           "-cpu", "cortex-a72", "-smp", str(cores), "-m", f"{memory_mib}M",
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-nic", "none",
           "-kernel", str(image)]
    if plugin:
        cmd += ["-plugin", plugin_argument(plugin, plugin_out, plugin_mode, symbols=symbols)]
    return cmd + list(extra)


class Session:
    """
    A running QEMU with its console captured to a file: what the kernel
    prints can be waited for, and keys typed at its console.
    """

    def __init__(self, cmd, console_path, quiet=False):
        self.quiet = quiet
        self.start = time.monotonic()
        self.console = open(console_path, "wb")
        self.chunks = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self):
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self.console.write(chunk)
            self.console.flush()
            with self.lock:
                self.chunks.append(chunk)

    def text(self):
        with self.lock:
            return b"".join(self.chunks).decode(errors="replace")

    def type(self, keys):
        if self.proc.poll() is None:
            self.proc.stdin.write(keys)
            self.proc.stdin.flush()

    def wait_for(self, predicate, timeout):
        """Until predicate(console text) holds (True), QEMU exits or timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.text()):
                return True
            if self.proc.poll() is not None:
                return predicate(self.text())
            time.sleep(0.05)
        return False

    def finish(self, timeout):
        """Waits for QEMU to exit; returns its status, or None if it had to be killed."""
        deadline = self.start + timeout
        last_report = time.monotonic()
        while self.proc.poll() is None:
            now = time.monotonic()
            if now > deadline:
                self.proc.kill()
                self.proc.wait()
                self.reader.join(5)
                self.console.close()
                return None
            if now - last_report >= 10:
                progress(f"... {now - self.start:.0f} s", self.quiet)
                last_report = now
            time.sleep(0.05)
        self.reader.join(5)
        self.console.close()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        self.console.close()


def boot(cmd, console_path, timeout, quiet=False, stop_when=None, stop_input=b"q"):
    """
    Runs QEMU until it powers off (the kernel ends the run) or `timeout`
    seconds pass. When stop_when(console_text) becomes true, stop_input is
    typed at the console so the kernel ends the run and reports.
    Returns (exit status or None on timeout, console text).
    """
    session = Session(cmd, console_path, quiet)
    if stop_when:
        if session.wait_for(stop_when, timeout):
            session.type(stop_input)
    status = session.finish(timeout)
    return status, session.text()
