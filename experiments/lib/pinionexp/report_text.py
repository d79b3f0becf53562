"""docs/REPORT.md's text: the method, the anchors, the results and their limits,
with every figure taken from the CSVs the experiments wrote (experiments/make-report)."""

import csv
import re
from pathlib import Path

ANCHOR_LOADS = [100, 500, 600]  # Mb/s at which sDDF and Linux are set side by side


def _num(x):
    return float(x) if x not in ("", None) else None


def load_anchors(directory):
    """sDDF's 5-PD echo and Linux on the i.MX8MM: CPU fraction and cycles per packet by load."""
    out = {}
    for name in ("sddf-5pd", "linux"):
        path = Path(directory) / "sddf-imx8mm" / f"{name}.csv"
        rows = {}
        if path.exists():
            with open(path) as f:
                for row in csv.reader(f):
                    if not row or not row[0] or row[0].startswith(("#", "load")) or \
                            not re.fullmatch(r"\d+", row[0]):
                        continue
                    rows.setdefault(int(row[0]), (_num(row[2]), _num(row[3])))
        out[name] = rows
    return out


def _anchor_table(anchors):
    sddf, linux = anchors.get("sddf-5pd", {}), anchors.get("linux", {})
    lines = ["| load (Mb/s) | sDDF 5 PDs: CPU | sDDF: cycles per packet | Linux: CPU | "
             "Linux / sDDF (CPU at the same load) |", "|---:|---:|---:|---:|---:|"]
    for load in ANCHOR_LOADS:
        if load in sddf and load in linux:
            s_cpu, s_cycles = sddf[load]
            l_cpu, _ = linux[load]
            lines.append(f"| {load} | {s_cpu:.2f} | {s_cycles:,.0f} | {l_cpu:.3f} | "
                         f"{l_cpu / s_cpu:.2f} |")
    return "\n".join(lines)


def _compare_table(compare):
    lines = ["| configuration | cores | instructions per packet, per core | total | native PDs | "
             "pinion kernel | guest kernel | guest user | VM exits | virtual IRQs | "
             "bytes copied | notifications | SGIs |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in compare:
        per_core = " / ".join(f"{int(x):,}" for x in r["per_core"].split())
        lines.append(f"| {r['name']} | {r['cores']} | {per_core} | {int(r['total']):,} | "
                     f"{int(r['native_pds']):,} | {int(r['pinion_kernel']):,} | "
                     f"{int(r['guest_kernel']):,} | {int(r['guest_user']):,} | "
                     f"{r['exits_total']} | {r['virqs']} | {r['bytes_copied']} | "
                     f"{r['notifications']} | {r['sgis']} |")
    return "\n".join(lines)


def _by_name(compare):
    return {r["name"]: r for r in compare}


def _ratios(compare):
    rows = _by_name(compare)
    native = {k: int(v["total"]) for k, v in rows.items() if v["kind"] == "native"}
    dvm = {k: int(v["total"]) for k, v in rows.items() if v["kind"] == "driver VM"}
    linux = {k: int(v["total"]) for k, v in rows.items() if v["kind"] == "Linux"}
    one_native = native.get("native-1core")
    one_dvm = dvm.get("dvm-1core")
    necks = {k: max(int(x) for x in v["per_core"].split()) for k, v in rows.items()}
    return native, dvm, linux, one_native, one_dvm, necks


def _placements_table(placements):
    lines = ["| policy | cores used | layout | batching of cross-core channels | predicted "
             "throughput (Mb/s) | latency (µs) | busiest core's utilisation | total CPU |",
             "|---|---:|---|---|---:|---:|---:|---:|"]
    for p in placements:
        by_core = {}
        for pd, core in p["cores"].items():
            by_core.setdefault(core, []).append(pd)
        layout = "; ".join(f"{c}: {', '.join(pds)}" for c, pds in sorted(by_core.items()))
        batching = ", ".join(f"{ch} {pol}" for ch, pol in p["batching"].items()) or "none"
        pr = p["predicted"]
        lines.append(f"| {p['policy']} | {pr['cores_used']} | {layout} | {batching} | "
                     f"{pr['throughput_mbps']:,.0f} | {pr['latency_us']:,.0f} | "
                     f"{pr['max_util']:.2f} | {pr['total_cpu']:.2f} |")
    return "\n".join(lines)


def _boot_table(boot):
    lines = ["| variant | guest instructions | guest kernel | guest user | pinion kernel "
             "(vCPU cores) | exits | virtual interrupts |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in boot:
        lines.append(f"| {r['variant']} | {int(r['guest_instructions']):,} | "
                     f"{int(r['guest_kernel']):,} | {int(r['guest_user']):,} | "
                     f"{int(r['kernel_instructions_on_vcpu_cores']):,} | {int(r['exits']):,} | "
                     f"{int(r['virqs']):,} |")
    return "\n".join(lines)


def _demote(markdown, figures_dir):
    """The sweep report's sections one level down, its files found from docs/."""
    out = []
    for line in markdown.splitlines():
        if line.startswith("#"):
            line = "#" + line
        line = re.sub(r"\]\((?!https?:|/|\.\./|#)([^)]+)\)", rf"]({figures_dir}/\1)", line)
        out.append(line)
    return "\n".join(out)


def _optimise_figures(rows):
    """{(configuration, layout): {figure: median}} from experiments/net/optimise's ablation.csv."""
    out = {}
    for row in rows:
        out[(row["configuration"], row["layout"])] = {
            k[:-len("_median")]: float(v) for k, v in row.items()
            if k.endswith("_median") and k != "per_core_median" and v}
    return out


def _optimise_section(optimise, rows, commands, figures_dir):
    fig = _optimise_figures(rows["ablation"])
    drv = _optimise_figures(rows["decomposition"]).get(("linux-drv", "1core"), {})
    native1 = fig[("native", "1core")]["total"]
    uio1, uio2 = fig[("uio", "1core")], fig[("uio", "2core")]
    best1 = fig[("all", "1core")]
    multi = {k: v for k, v in fig.items() if k[0] != "native" and k[1] != "1core"}
    neck_key = min(multi, key=lambda k: multi[k]["useful_bottleneck"])
    neck = multi[neck_key]["useful_bottleneck"]
    alone = []
    base = fig.get(("kernel", "1core"))
    for name in ("kernel+bypass", "kernel+recycle", "kernel+no-tx-napi", "kernel+lean"):
        if base and (name, "1core") in fig:
            delta = fig[(name, "1core")]["total"] - base["total"]
            alone.append(f"{name} {'−' if delta < 0 else '+'}{abs(delta):,.0f}")
    total_goal = "met" if best1["total"] <= 2 * native1 else "not met"
    neck_goal = "met" if neck <= native1 else "not met"
    return f"""## What a network driver VM costs, and what cuts it

`{commands['optimise']}` ([net-optimise.md](net-optimise.md)): the
LionsOS-style driver VM (Linux's virtio-net driver, a user-space bridge
over UIO and a packet socket) taken apart against the same guest kernel
alone on the machine, then each optimisation switched on alone, and all
together, on the same packets and placements; every configuration run
N times, each figure the median with the lowest and highest run.

### Where it goes

{optimise['decomposition.md']}
### What each optimisation buys

![ablation]({figures_dir}/ablation.png)

{optimise['ablation.md']}
Where the instructions of the main configurations go, per packet, the
guest's kernel by subsystem (medians of the same runs, `experiments/profile`,
[profile.md](profile.md)):

{optimise['composition']}

![composition]({figures_dir}/profile-composition.png)

- **On one core**, the driver VM went from {uio1['total']:,.0f} to
  {best1['total']:,.0f} instructions per packet:
  {uio1['total'] / native1:.2f} to {best1['total'] / native1:.2f} times the
  native echo's {native1:,.0f}. The goal of this step was 2 times: {total_goal}.
  What remains is mostly Linux's own virtio-net driver and network core,
  which an unmodified driver keeps: the guest's kernel does
  {best1['guest_kernel']:,.0f} per packet, where the same kernel alone on the
  machine, answering on the receive path with no socket, no VM and no
  pinion (linux-drv), does {drv.get('guest_kernel', float('nan')):,.0f}.
- **Each in-kernel option alone**, against the plain in-kernel bridge on
  one core: {"; ".join(alone) if alone else "not measured"}.
- **Parallelism**: the busiest core of the best layout
  ({neck_key[0]}, {neck_key[1]}) carries {neck:,.0f} per packet,
  {neck / native1:.2f} times the one-core native echo (the goal: at or
  below 1): {neck_goal}. With one vCPU the busiest core stayed the
  vCPU's ({uio2['useful_bottleneck']:,.0f} for the LionsOS-style bridge on
  two cores): spread over two vCPUs, receive and transmit run side by side.
"""


def _storage_section(storage, commands, figures_dir):
    """The storage comparison: experiments/blk/compare's table and plot, and its reading."""
    rows = {r["name"]: r for r in storage["rows"]}

    def median(name, field):
        row = rows.get(name)
        return float(row[f"{field}_median"]) if row and row.get(f"{field}_median") else None

    lines = []
    for workload, what in (("4k-rand-70r", "4 KiB random requests, 70% reads, 16 in flight"),
                           ("64k-seq-read", "64 KiB sequential reads, 4 in flight")):
        native = median(f"native-1core-{workload}", "io_path")
        kernel = median(f"dvm-1core-{workload}", "io_path")
        uio = median(f"dvm-uio-1core-{workload}", "io_path")
        linux = median(f"linux-1core-{workload}", "io_path")
        if native and kernel:
            text = (f"- **{what}**, one core, the I/O path per request: native "
                    f"{native:,.0f}; driver VM with the in-kernel bridge {kernel:,.0f} "
                    f"({kernel / native:.1f}×)")
            if uio:
                text += f", with the LionsOS-style user-space bridge {uio:,.0f} ({uio / native:.1f}×)"
            if linux:
                text += f"; Linux alone on the machine {linux:,.0f} ({linux / native:.1f}×)"
            lines.append(text + ".")
    four = [(label, median(f"{kind}-4core-4k-rand-70r", "busiest"))
            for kind, label in (("native", "native"), ("dvm", "in-kernel bridge"),
                                ("dvm-uio", "user-space bridge"))]
    four = [(label, value) for label, value in four if value]
    necks = ("- **Parallelism**, 4 KiB requests on four cores (one PD or vCPU a core): the "
             "busiest core carries " + ", ".join(f"{v:,.0f} ({label})" for label, v in four)
             + " instructions per request; each client's core carries about half the "
             "benchmark's own work, so the driver VM's core is the bottleneck as soon as its "
             "vCPU costs more than that.") if four else ""
    return f"""## Storage: the block queues, natively and in a driver VM

`{commands['blk_compare']}` ([blk.md](blk.md), [blk-dvm.md](blk-dvm.md)):
two benchmark clients, each on its own partition of one virtio-blk disk
behind pinion's block virtualiser, every block written with a pattern
and every block read checked, the disk image checked from the host after
every run; served by pinion's zero-copy virtio-blk driver, by Linux's
virtio-blk driver in a driver VM (pinion's in-kernel bridge submitting bios
on the clients' pages, or the LionsOS-style user-space bridge over UIO with
O_DIRECT and an io_uring), and, as a baseline, by the same Linux kernel alone
on the machine making the same requests. The **I/O path** is everything but
the clients' own filling and checking of every byte (the same work in
all); × is against the native path on the same cores.

![storage]({figures_dir}/blk-compare.png)

{storage['md']}
{chr(10).join(lines)}
{necks}

The matrix, every kind on one core:

{storage.get('matrix', '')}
"""


def render(compare, boot, figures_md, figures_dir, placements, commands, anchors, optimise=None,
           optimise_rows=None, storage=None):
    native, dvm, linux, one_native, one_dvm, necks = _ratios(compare)
    # Driver VM against native on the same number of cores.
    rows = _by_name(compare)
    same = [int(rows[d]["total"]) / native[n] for d in dvm for n in native
            if rows[d]["cores"] == rows[n]["cores"]]
    dvm_ratio = (min(same), max(same)) if same else None
    linux_total = next(iter(linux.values()), None)
    best_dvm_neck = min((necks[k] for k in dvm), default=None)
    best_native_neck = min((necks[k] for k in native), default=None)
    parts = []
    parts.append(f"""# pinion: what parallelism hides of a driver VM's cost — first report

Regenerated by `make report` (`experiments/make-report`), which runs every
experiment below and writes this file, its tables and its plots
(`docs/report/`). Each table and figure names the command that produced
its data. All counts are retired instructions under QEMU's TCG, counted
per core by pinion's plugin; nothing here is a time.

## The question and the method

How much of the overhead of running an unmodified Linux driver in a driver
VM can be hidden by running the pieces of an I/O system in parallel on
several cores, and how far can it be cut? pinion runs sDDF-style I/O
systems (drivers, multiplexers, copiers, clients as isolated protection
domains joined by shared-memory queues and notifications) on its own
partitioning kernel, with some drivers as Linux driver VMs, places every
PD and vCPU on a core (`place`), and counts the cost of every I/O:

- **cost** is retired instructions per core, attributed to the PD, vCPU or
  kernel they were spent for, split into pinion's kernel, native PDs, a
  guest's kernel and a guest's user space ([accounting.md](accounting.md));
- **events** (notifications on one core and across cores, SGIs, wake-ups,
  VM exits by reason, virtual interrupts) are counted by the kernel;
- **parallelism** is measured as the bottleneck core's cost per I/O:
  with enough load, the busiest core limits throughput;
- the machine is QEMU's `virt` board with Cortex-A72 cores, 1 to 4 of
  them, and a virtio-net device on a UDP socket that `pinion-loadgen`
  drives and checks ([loadgen.md](loadgen.md)).

Device classes done so far: **network** (the UDP echo) and **storage**
(the block benchmark). USB, Wi-Fi and graphics are not yet measured.

## The anchors

Published figures pinion is set against (`experiments/anchors/`): sDDF's
5-PD UDP echo and Linux 6.1.1 on an i.MX8MM (Cortex-A53 at 1.8 GHz, 1 Gb/s
Ethernet, ipbench). At the same achieved load, the ratio of CPU fractions
is the ratio of the cost per packet:

{_anchor_table(anchors)}

No published per-packet figure of a LionsOS driver VM is among the
anchors, so the driver-VM results below stand on their own.

## The network: three ways of serving the echo

`{commands['compare']}` ([net-dvm.md](net-dvm.md)): 10,000 packets
of 64-byte payload, window 64, per echoed packet, one run each; `native` is
pinion's own virtio-net driver, `dvm` Linux's driver in a driver VM with the
LionsOS-style user-space bridge, `dvm-kernel` the same with pinion's
in-kernel bridge and its options (the next section), `linux` the same Linux
alone on the machine over UDP sockets, `linux-l2` over a packet socket,
`linux-kernel` answering inside the kernel.

{_compare_table(compare)}
""")
    if dvm_ratio and one_native and one_dvm:
        parts.append(f"""- The LionsOS-style driver VM costs {dvm_ratio[0]:.1f} to {dvm_ratio[1]:.1f} times the
  native path on the same number of cores, in total instructions per packet. Almost all of the
  difference is the guest's kernel (its virtio-net driver, the packet
  socket, `poll()` and the UIO interrupt); VM exits are under one per
  packet because the device is passed through and the queues batch.
- Linux alone costs {linux_total:,} per packet
  ({linux_total / one_native:.1f} times pinion's one-core native echo): it
  runs the IP and UDP stack and a socket round trip for every datagram,
  which pinion's clients do in about 200 instructions. The anchors put
  Linux at 1.1 to 1.6 times sDDF's cost on real hardware, where sDDF's
  client runs lwIP and cycles include cache and memory effects that
  instruction counts do not see.
- **What parallelism hides**: the best bottleneck core of the driver VM
  carries {best_dvm_neck:,} instructions per packet against
  {one_dvm:,} for the whole driver VM on one core: the native pieces move
  to other cores, the guest does not shrink. The native echo's best
  bottleneck core carries {best_native_neck:,} against {one_native:,}.
""")
    if optimise and optimise_rows:
        parts.append(_optimise_section(optimise, optimise_rows, commands, figures_dir))
    if storage:
        parts.append(_storage_section(storage, commands, figures_dir))
    parts.append(f"""## What a driver VM's boot costs

`{commands['boot']}` ([vm.md](vm.md)): the test guest booted to its init
and powered off, beside native PDs.

{_boot_table(boot)}

## Core layouts, measured and predicted

The sweeps run every distinct layout `place` enumerates on 1 to 4 cores
(or a stated sample), each with the same packets and window, and set
`place`'s prediction beside each measurement ([sweep.md](sweep.md)):

- native: `{commands['native_sweep']}`
- driver VM: `{commands['dvm_sweep']}`
- batching: `{commands['batching_sweep']}`
- tables and plots: `{commands['figures']}`

{_demote(figures_md, figures_dir)}

## What `place` recommends for the i.MX8MM

sDDF's echo (`systems/sddf-echo-imx8mm.json`) on the i.MX8MM EVK's profile
(derived from the anchors, [place.md](place.md)), at the profile's default
load, under each policy (`build/release/placement/place --board imx8mm-evk
--system systems/sddf-echo-imx8mm.json --policy P`):

{_placements_table(placements)}

The i.MX8MM profile has no guest costs yet, so no driver-VM layout is
recommended for it here.

## What counting under emulation can and cannot tell

- **No time.** Wall-clock time under TCG follows the host's load, not the
  modelled machine. Every cost here is retired instructions, exact per
  core; a real core's cycles per instruction differ by code (a guest
  kernel's pointer chasing against a copier's tight loop), so ratios of
  instructions are not ratios of time.
- **No caches, TLBs or memory system.** A vCPU sharing a core with native
  PDs pays no cache or TLB pollution here; cross-core cache-line transfers
  (20 to 90 ns on real parts) cost nothing.
- **Device accesses cost the same natively and in a VM**: a passed-through
  register access is a QEMU device access either way; on hardware stage-2
  translation and the interrupt path add costs.
- **Interleaving is not deterministic** across cores: how notifications
  batch depends on how the emulated cores and the load generator
  interleave, so multi-core figures vary by a few percent run to run.
- **Two device classes**: the network and storage are measured so far;
  QEMU's virtio-blk completes a request at once from its host file, so the
  storage figures are the software path's, with no device latency.
""")
    return "\n".join(parts)
