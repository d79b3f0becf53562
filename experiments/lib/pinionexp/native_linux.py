"""Native-Linux baselines: the driver VMs' own guest kernel booted directly by QEMU (no
pinion kernel) on the machine pinion's runs use, counted by the same plugin in its
guest=linux mode (docs/accounting.md, "Guests"), and what such a run's counts say per
I/O. experiments/blk/linux-baseline and experiments/net/linux-baseline use it; the guest
program marks the measured window itself (driver-vms/programs/guest_phase.h).

The cells a run is counted in have one owner (0: no pinion kernel switches owners) and
two modes that matter: guest_kernel (Linux) and user (the guest's user space; also
Linux's first few thousand instructions with the MMU off, at boot, outside any window)."""

from pathlib import Path

from . import runner

# pinion's runs' machine (runner.qemu_command): the same board, CPU model and console.
MACHINE = ["-M", "virt,virtualization=on,gic-version=3", "-cpu", "cortex-a72"]
MEMORY = "256M"


def qemu_command(kernel, initrd, cores, append, devices=(), plugin=None):
    """QEMU booting `kernel` with `initrd` on `cores` CPUs, the console on stdio,
    `devices` (QEMU options) and the counting plugin (its -plugin value) when given."""
    cmd = ["qemu-system-aarch64", *MACHINE, "-smp", str(cores), "-m", MEMORY,
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-nic", "none",
           "-kernel", str(kernel), "-initrd", str(initrd),
           "-append", f"console=ttyAMA0 {append}", "-global", "virtio-mmio.force-legacy=false"]
    cmd += list(devices)
    if plugin:
        cmd += ["-plugin", plugin]
    return cmd


def guest_files(build_dir, kernel=None, initrd=None):
    """The guest kernel and initramfs every baseline boots (driver-vms/CMakeLists.txt):
    BUILD/guests/linux.Image and net.cpio.gz unless others are named; RunError when one
    is not there."""
    guests = Path(build_dir) / "guests"
    kernel = Path(kernel) if kernel else guests / "linux.Image"
    initrd = Path(initrd) if initrd else guests / "net.cpio.gz"
    for needed in (kernel, initrd):
        if not needed.exists():
            raise runner.RunError(f"not built: {needed} (run `make build`)")
    return kernel, initrd


def per_unit(counts, cores, units, phase=1):
    """Instructions of `phase` per unit of work (a request, a KiB), per core and in
    total: guest kernel, guest user space, and everything (the guest's kernel and user
    space, and any instruction the plugin counts as pinion's kernel, which a native run
    has none of). None when there are no units."""
    if not units:
        return None
    rows = []
    for core in range(cores):
        cell = counts.select(phase=phase, core=core)
        rows.append({"core": core, "guest_kernel": round(cell["guest_kernel"] / units, 2),
                     "guest_user": round(cell["user"] / units, 2),
                     "total": round(cell["total"] / units, 2)})
    total = counts.select(phase=phase)
    return {"phase": phase, "cores": rows,
            "guest_kernel": round(total["guest_kernel"] / units, 2),
            "guest_user": round(total["user"] / units, 2),
            "all_instructions": round(total["total"] / units, 2),
            "busiest_core": max(r["total"] for r in rows) if rows else None}
