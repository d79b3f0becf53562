"""Per-function profiles of a guest kernel (docs/profile.md): the plugin's per-function
counts (counts.json, "functions", made with symbols=) read from run directories, folded
into subsystems, divided per I/O, and set beside the rest of the run's instructions.

A run directory is experiments/run's or experiments/net/linux-baseline's (counts.json and
summary.json with per_io.ios), or experiments/run --repeat N's, whose run-1 .. run-N
subdirectories are such runs: then every figure is the median over the runs."""

import json
import re
import statistics
from pathlib import Path

from .counts import Counts

# Subsystems, in the order tables and plots show them: id, label.
SUBSYSTEMS = [
    ("virtio", "virtio drivers (net, blk) and virtio transport"),
    ("block", "block layer: bios, blk-mq requests, tags"),
    ("netcore", "NAPI, softirq and the network core"),
    ("skb", "skb and memory allocation"),
    ("socket", "af_packet and the socket layer"),
    ("syscall", "system call entry, exit and calls"),
    ("uio", "UIO"),
    ("pinion", "pinion's in-kernel code"),
    ("sched", "scheduler, wake-ups and idle"),
    ("timer", "timers and clocks"),
    ("irq", "interrupt entry and the GIC"),
    ("other", "other"),
]
# Guest-kernel instructions the map has no function for (before its first symbol or
# after its last): a row of subsystems.csv beside the subsystems.
OUTSIDE_SYMBOLS = "outside_symbols"

# Which subsystem a function belongs to: the first rule whose pattern matches the whole
# name, without the compiler's suffixes (.constprop.0, .isra.0, .part.0, .cold). Order
# matters: an skb allocation is "skb" before a napi_* name makes it "netcore", a datagram
# copy is "socket" before skb_* makes it "skb", a clock is "timer" before sched_* makes it
# "sched".
RULES = [
    # pinion's in-kernel drivers (driver-vms/kernel/) and the pinion code they build with:
    # the bridge's queue logic and the echo clients' protocol.
    ("pinion", r"pinion_\w*|net_bridge_\w*|l2_echo_\w*|echo_(decide|build_reply|copy)"),
    ("uio", r"uio_\w*"),
    # The block layer: bios, blk-mq requests and their tags (sbitmap), I/O accounting and
    # the virtio-blk driver's blk-mq callbacks (before "virtio" would take virtio_queue_rq).
    ("block", r"(__)?blk_\w*|(__)?bio_\w*|submit_bio\w*|(__)?sbitmap_\w*|bdev_\w*|(__)?blkdev_\w*"
              r"|bvec_\w*|(__)?rq_qos_\w*|(__)?elv_\w*|part_\w*|disk_\w*|update_io_ticks"
              r"|(__)?bio\w*|virtblk_\w*|virtio_queue_rqs?|virtio_commit_rqs"
              r"|(__)?blkg_\w*|req_bio_endio|end_bio_\w*"),
    # virtio_net.c, virtio_ring.c, virtio_mmio.c (its vm_* callbacks), and the scatterlist
    # helpers the driver builds its descriptors with.
    ("virtio", r"virtnet_\w*|virtqueue_\w*|vring_\w*|virtio_\w*|__virtio\w*|vp_\w*"
               r"|vm_(get|set|get_status|set_status|reset|notify\w*|interrupt|del_vqs?|setup_vq"
               r"|find_vqs|bus_name|synchronize_cbs|get_shm_region|generation|get_features"
               r"|finalize_features)"
               r"|receive_(buf|small|big|mergeable)|page_to_skb|add_recvbuf_\w*|try_fill_recv"
               r"|free_old_xmit_skbs|xmit_skb|start_xmit|detach_buf\w*|skb_(xmit|recv)_done"
               r"|refill_work|mergeable_\w*|get_mergeable_buf_len|sg_\w*|__sg_\w*"),
    # Datagram receive and copies to and from user space: the socket layer's work, though
    # some of the names start with skb_.
    ("socket", r"\w*datagram\w*|__skb_try_recv_\w*|__skb_recv_\w*|skb_recv_\w*"
               r"|simple_copy_to_iter|skb_set_owner_\w*|skb_orphan\w*"),
    # skb construction and freeing, the slab and page allocators, and the string routines
    # (in a network profile their callers are skb construction: __alloc_skb and
    # __build_skb_around zero the skb, page_to_skb copies the header).
    ("skb", r"(__)?(napi_|netdev_)?(alloc|build)_skb\w*|__napi_alloc_skb|__netdev_alloc_skb"
            r"|(__)?napi_build_skb|__build_skb\w*|napi_skb_cache_\w*|napi_consume_skb"
            r"|\w*alloc_frag\w*|(__)?kfree_skb\w*|kfree_skbmem|consume_skb|__consume_\w*skb"
            r"|(__)?dev_kfree_skb\w*|skb_release_\w*|skb_free_head|(__)?skb_clone|__copy_skb_header"
            r"|skb_(put|push|pull|trim|reserve|copy|copy_bits|copy_header|headers_offset_update"
            r"|page_frag_refill|to_sgvec\w*|add_rx_frag|coalesce|try_coalesce|head_frag\w*)"
            r"|__skb_to_sgvec|alloc_skb_with_frags|skb_partial_csum_set|(__)?pskb_\w*|skb_condense"
            r"|kmem_cache_\w*|__kmem_cache_\w*|kmalloc\w*|__kmalloc\w*|kfree|krealloc|(__)?ksize"
            r"|___slab_alloc|__slab_alloc\w*|__slab_free|slab_\w*|new_slab|__free_slab|free_slab"
            r"|discard_slab|deactivate_slab|allocate_slab|setup_object|get_partial\w*"
            r"|should_failslab|memcg_slab\w*|page_frag_\w*|__page_frag_\w*"
            r"|get_page_from_freelist|__alloc_pages\w*|alloc_pages\w*|__free_pages\w*"
            r"|free_pages\w*|free_unref_page\w*|free_pcp_prepare|free_pcppages_bulk|rmqueue\w*"
            r"|__rmqueue\w*|prep_new_page|post_alloc_hook|__zone_watermark_ok|zone_watermark\w*"
            r"|mod_node_(page_)?state|__mod_node_page_state|mod_zone_\w*|__mod_zone_\w*"
            r"|should_fail_alloc_page|__folio_put|free_compound_page|destroy_large_folio"
            r"|(__)?mem(set|cpy|move|cmp)\w*|memchr_inv"),
    ("socket", r"packet_\w*|__packet_\w*|tpacket_\w*|run_filter|fanout_\w*|prb_\w*"
               r"|sock_\w*|__sock_\w*|sk_\w*|__sk_\w*|sockfd_lookup\w*|move_addr_to_\w*"
               r"|__arch_copy_(to|from)_user|_?copy_(to|from)_(iter|user)\w*|import_single_range"
               r"|import_iovec|iov_iter_\w*|__import_iovec|iovec_from_user\w*|\w*msghdr\w*"
               r"|put_cmsg\w*|csum_and_copy_(from|to)_iter|receiver_wake_function"),
    # The other exception entries from user space (data aborts, FP/SIMD) go with it: a
    # guest's user program enters its kernel by system calls, almost only.
    ("syscall", r"el0t_64_sync\w*|el0_(svc|da|ia|pc|sp|undef|bti|inv|dbg|fpsimd_acc|sve_acc"
                r"|sys|fpac)\w*|do_el0_svc\w*|el0_svc_common\w*|invoke_syscall\w*"
                r"|__arm64_sys_\w*|__se_sys_\w*|__do_sys_\w*|_+sys_\w*|ksys_\w*|vfs_(read|write)\w*"
                r"|do_sys_poll|do_poll\w*|do_pollfd|poll_select_\w*|__pollwait|poll_freewait"
                r"|poll_initwait|set_user_sigmask|(__)?fget\w*|(__)?fdget\w*|(__)?fput\w*"
                r"|ret_to_user|exit_to_user_mode\w*|enter_from_user_mode\w*"
                r"|prepare_exit_to_user_mode|do_notify_resume|__rseq_handle_notify_resume"
                r"|rseq_\w*|clear_rseq_cs|fpsimd_restore_current_state|vectors"),
    ("timer", r"(__)?hrtimer_\w*|hrtimer\w*|(__)?tick_\w*|arch_timer_\w*|arch_counter_\w*"
              r"|clockevents_\w*|clocksource_\w*|ktime_\w*|timekeeping_\w*|update_wall_time"
              r"|update_vsyscall\w*|sched_clock\w*|\w*jiffies\w*|ntp_\w*|second_overflow"
              r"|account_\w*|update_process_times|calc_global_load\w*|calc_load_\w*"
              r"|run_posix_cpu_timers|get_next_timer_interrupt|__next_timer_interrupt"
              r"|lock_timer_base|enqueue_timer|calc_wheel_index|detach_if_pending|irq_work_\w*"
              r"|(__)?mod_timer\w*|add_timer\w*|(__)?run_timers\w*|run_timer_softirq"
              r"|call_timer_fn\w*"
              r"|(__)?timer_\w*|schedule_hrtimeout\w*|schedule_timeout\w*"
              r"|delayed_work_timer_fn|get_nohz_timer_target|nr_iowait_cpu"),
    # NAPI, softirq, the device layer, qdiscs, GRO, flow dissection and the protocols.
    ("netcore", r"(__)?napi_\w*|net_rx_action|(__)?do_softirq\w*|____do_softirq|handle_softirqs"
                r"|(__)?local_bh_\w*|(__)?raise_softirq\w*|ksoftirqd\w*|run_ksoftirqd"
                r"|(__)?netif_\w*|netdev_\w*|(__)?dev_\w*|sch_\w*|(__)?qdisc_\w*|pfifo_fast_\w*"
                r"|validate_xmit_\w*|skb_network_protocol|skb_mac_gso_segment"
                r"|skb_csum_hwoffload_help|passthru_features_check|(__)?skb_flow_dissect\w*"
                r"|flow_\w*|(__)?skb_get_hash\w*|eth_\w*|(__)?ip_\w*|ipv6_\w*|arp_\w*"
                r"|(__)?neigh_\w*"
                r"|fib_\w*|dst_\w*|rt_\w*|ipv4_\w*|icmp_\w*|(__)?udp\w*|inet_\w*|(__)?gro_\w*"
                r"|skb_gro_\w*|tcp_\w*|(__)?net_\w*|rps_\w*|xdp_\w*|(__)?skb_checksum\w*"
                # Checksums, socket lookup and the hashes of IP identifiers and flows.
                r"|do_csum|(__)?csum\w*|(__)?skb_gro_checksum\w*|skb_pull_rcsum|skb_consume_udp"
                r"|raw_local_deliver|raw_v4_\w*|compute_score|find_exception|siphash\w*"),
    ("irq", r"(__)?gic_\w*|handle_\w*irq\w*|__handle_irq\w*|generic_handle_\w*|handle_irq_desc"
            r"|(__)?irq_\w*|\w*_irq_handler\w*|el1h_64_irq\w*|el1_interrupt|el0t_64_irq\w*"
            r"|el0_interrupt|__el0_irq_handler_common|call_on_irq_stack|do_interrupt_handler"
            r"|note_interrupt|add_interrupt_randomness|fast_mix|mix_interrupt_randomness"
            r"|enter_from_kernel_mode|exit_to_kernel_mode\w*|ret_to_kernel|ct_nmi_\w*"
            r"|ct_irq_\w*|arch_local_irq_\w*|(__)?(enable|disable)_irq\w*|check_irq_resend"
            r"|irq_domain_\w*|(__)?radix_tree_lookup"),
    ("sched", r"(__)?schedule\w*|preempt_schedule\w*|_?_cond_resched|do_idle|cpu_idle\w*"
              r"|cpu_startup_entry|default_idle_call|arch_cpu_idle\w*|cpu_do_idle"
              r"|finish_task_switch\w*|try_to_wake_up|ttwu_\w*|wake_up\w*|__wake_up\w*"
              r"|woken_wake_function|default_wake_function|autoremove_wake_function|pollwake"
              r"|(add|remove)_wait_queue\w*|prepare_to_wait\w*|finish_wait|prepare_to_swait\w*"
              r"|finish_swait|swake_up\w*|enqueue_\w*|dequeue_\w*|pick_next_\w*|put_prev_\w*"
              r"|set_next_\w*|update_curr\w*|\w*_fair|__update_load_avg\w*|update_load_avg"
              r"|update_rq_clock\w*|update_min_vruntime|place_entity|check_preempt_\w*"
              r"|resched_curr|clear_buddies|idle_cpu|available_idle_cpu|select_task_rq\w*"
              r"|select_idle_\w*|__switch_to|cpu_switch_to|fpsimd_thread_switch|fpsimd_save\w*"
              r"|__(get|put)_cpu_fpsimd_context|spectre_v4_enable_task_mitigation"
              r"|ssbs_thread_switch|entry_task_switch|(__)?sched_\w*|task_tick_\w*|scheduler_tick"
              r"|rcu_note_context_switch|kthread\w*|smpboot_thread_fn|worker_thread"
              r"|process_one_work|wq_worker_\w*|nohz_\w*|rb_(next|erase|insert_color|first)"
              r"|ct_idle_\w*|ct_kernel_\w*|migrate_\w*|load_balance|rebalance_domains"
              r"|trigger_load_balance|newidle_balance|reweight_\w*"),
]
_COMPILED = [(subsystem, re.compile(pattern)) for subsystem, pattern in RULES]
_SUFFIX = re.compile(r"\.(constprop|isra|part|cold|lto_priv|llvm)(\.\d+)*")

# The parts of a run's instructions per I/O that composition.csv stacks, in order:
# id, label, and which subsystems a guest part is made of.
PARTS = [
    ("native_pds", "native PDs", None),
    ("pinion_kernel_pds", "pinion kernel for native PDs", None),
    ("pinion_kernel_vcpus", "pinion kernel for vCPUs", None),
    ("pinion_kernel_other", "pinion kernel, other (idle, ...)", None),
    ("guest_virtio", "guest virtio driver", ("virtio",)),
    ("guest_block", "guest block layer", ("block",)),
    ("guest_netcore", "guest network core and skb", ("netcore", "skb")),
    ("guest_socket", "guest socket layer", ("socket",)),
    ("guest_syscall_uio", "guest syscalls and UIO", ("syscall", "uio")),
    ("guest_pinion", "guest pinion in-kernel code", ("pinion",)),
    ("guest_other", "guest other (sched, timer, irq, other)",
     ("sched", "timer", "irq", "other", OUTSIDE_SYMBOLS)),
    ("guest_user", "guest user (the bridge)", None),
]


class ProfileError(Exception):
    """A profile that cannot be made; the message says why and what to do."""


class FailedRun(ProfileError):
    """A run whose summary says it failed: left out of a repeat's medians."""


def subsystem_of(function):
    base = _SUFFIX.sub("", function)
    for subsystem, pattern in _COMPILED:
        if pattern.fullmatch(base):
            return subsystem
    return "other"


def run_directories(directory):
    """The runs a directory holds: itself, or experiments/run --repeat's run-1 .. run-N."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ProfileError(f"{directory}: no such directory")
    if (directory / "counts.json").exists():
        return [directory]
    repeats = sorted((d for d in directory.glob("run-*") if d.is_dir() and
                      d.name[4:].isdigit()), key=lambda d: int(d.name[4:]))
    if repeats:
        return repeats
    raise ProfileError(f"{directory}: no counts.json (not a run directory of experiments/run "
                       "or experiments/net/linux-baseline, or a run made with --no-plugin)")


def _load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ProfileError(f"{path}: missing ({what})") from None
    except (OSError, json.JSONDecodeError) as err:
        raise ProfileError(f"{path}: cannot read {what}: {err}") from None


class Run:
    """One run: per I/O, its guest kernel's functions and the parts of its instructions."""

    def __init__(self, directory, phase):
        self.dir = Path(directory)
        counts_doc = _load_json(self.dir / "counts.json", "the plugin's counts")
        summary = _load_json(self.dir / "summary.json", "the run's summary")
        if summary.get("status") not in (None, "ok"):
            raise FailedRun(f"{self.dir}: the run failed: {summary.get('reason', '?')}")
        ios = (summary.get("per_io") or {}).get("ios")
        if not ios:
            raise ProfileError(f"{self.dir}/summary.json has no per_io.ios: profile a run "
                               "that measured I/Os (experiments/run --packets N)")
        self.ios = ios
        self.command = summary.get("command", "")
        functions = counts_doc.get("functions")
        if not functions:
            raise ProfileError(
                f"{self.dir}/counts.json has no per-function counts: rerun with a guest "
                "kernel's System.map (experiments/run passes BUILD/guests/<kernel>.System.map "
                "by itself when the build has one: rebuild, or give --symbols PATH)")
        self.symbols = functions.get("symbols")
        by_phase = {p["phase"]: p["counts"] for p in functions.get("phases", [])}
        if phase not in by_phase:
            raise ProfileError(f"{self.dir}/counts.json: no function counted in phase {phase} "
                               f"(phases: {sorted(by_phase) or 'none'})")
        self.functions = {}
        for name, count in by_phase[phase]:  # equal names are merged, but be sure
            self.functions[name] = self.functions.get(name, 0) + count / ios
        self.linux = counts_doc.get("guest") == "linux"
        self.parts = (self._linux_parts(Counts(counts_doc), phase) if self.linux
                      else self._pinion_parts(summary, phase))

    def _pinion_parts(self, summary, phase):
        section = summary.get("phases", {}).get(str(phase))
        if not section:
            raise ProfileError(f"{self.dir}/summary.json has no phase {phase}")
        pds = [pd["instructions"] for pd in section["pds"].values() if pd["instructions"]]
        vcpus = [v["instructions"] for vm in section.get("vms", {}).values()
                 for v in vm["vcpus"] if v["instructions"]]
        kernel = sum(c["instructions"]["kernel"] for c in section["cores"] if c["instructions"])
        pds_kernel = sum(pd["kernel"] for pd in pds)
        vcpus_kernel = sum(v["kernel"] for v in vcpus)
        return {"native_pds": sum(pd["user"] for pd in pds) / self.ios,
                "pinion_kernel_pds": pds_kernel / self.ios,
                "pinion_kernel_vcpus": vcpus_kernel / self.ios,
                "pinion_kernel_other": (kernel - pds_kernel - vcpus_kernel) / self.ios,
                "guest_kernel": sum(v["guest_kernel"] for v in vcpus) / self.ios,
                "guest_user": sum(v["user"] for v in vcpus) / self.ios}

    def _linux_parts(self, counts, phase):
        cell = counts.select(phase=phase)
        return {"native_pds": 0, "pinion_kernel_pds": 0, "pinion_kernel_vcpus": 0,
                "pinion_kernel_other": 0, "guest_kernel": cell["guest_kernel"] / self.ios,
                "guest_user": cell["user"] / self.ios}


class Profile:
    """One label's profile: per-I/O figures, each the median over its runs (so the
    functions' medians need not add up exactly to their subsystem's median)."""

    def __init__(self, label, directory, runs, command=None):
        self.label = label
        self.dir = Path(directory)
        self.runs = runs
        names = sorted({name for run in runs for name in run.functions})
        self.functions = {name: _median([run.functions.get(name, 0) for run in runs])
                          for name in names}
        self.subsystem = {name: subsystem_of(name) for name in names}
        per_run_subsystems = [_fold(run.functions) for run in runs]
        for fold, run in zip(per_run_subsystems, runs):
            fold[OUTSIDE_SYMBOLS] = max(0.0, run.parts["guest_kernel"] -
                                        sum(run.functions.values()))
        keys = [s for s, _ in SUBSYSTEMS] + [OUTSIDE_SYMBOLS]
        self.subsystems = {k: _median([fold.get(k, 0) for fold in per_run_subsystems])
                           for k in keys}
        per_run_parts = [composition(run, fold) for run, fold in zip(runs, per_run_subsystems)]
        self.parts = {k: _median([p[k] for p in per_run_parts]) for k in per_run_parts[0]}
        self.guest_kernel = _median([run.parts["guest_kernel"] for run in runs])
        # The share of the guest kernel the map's functions hold.
        self.attributed = _median([sum(run.functions.values()) / run.parts["guest_kernel"]
                                   if run.parts["guest_kernel"] else 0.0 for run in runs])
        self.linux = all(run.linux for run in runs)
        self.commands = [command] if command else sorted({r.command for r in runs if r.command})

    def share(self, value):
        """value as a share of the guest kernel's instructions per I/O."""
        return value / self.guest_kernel if self.guest_kernel else 0.0

    def ranked(self):
        """(function, subsystem, per I/O), largest first."""
        return sorted(((n, self.subsystem[n], v) for n, v in self.functions.items()),
                      key=lambda item: (-item[2], item[0]))


def _fold(functions):
    folded = {}
    for name, value in functions.items():
        subsystem = subsystem_of(name)
        folded[subsystem] = folded.get(subsystem, 0) + value
    return folded


def composition(run, subsystems):
    """The stacked parts of one run's instructions per I/O (PARTS), and their total."""
    parts = {}
    for key, _, members in PARTS:
        if members is None:
            parts[key] = run.parts[key]
        else:
            parts[key] = sum(subsystems.get(m, 0) for m in members)
    parts["total"] = sum(parts.values())
    return parts


def _median(values):
    return float(statistics.median(values)) if values else 0.0


def load(directory, label, phase, note=None):
    """The profile of one run directory, or of a repeat's runs (as medians: a run that
    failed is left out, and note(message) says so)."""
    directories = run_directories(directory)
    if directories == [Path(directory)]:
        return Profile(label, directory, [Run(directory, phase)])
    runs = []
    for run_dir in directories:
        try:
            runs.append(Run(run_dir, phase))
        except FailedRun as err:
            if note:
                note(f"left out: {err}")
    if not runs:
        raise ProfileError(f"{directory}: none of its {len(directories)} runs succeeded")
    combined = Path(directory) / "summary.json"  # experiments/run --repeat's, naming its command
    command = None
    if combined.exists():
        command = _load_json(combined, "the repeated runs' summary").get("command")
    return Profile(label, directory, runs, command)
