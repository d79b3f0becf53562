#!/usr/bin/env python3
"""
End-to-end tests of the kernel: each boots an image in QEMU through
experiments/run and checks what the kernel printed and what the plugin
counted.

usage: check_kernel.py BUILD_DIR WORK_DIR TEST
tests: pingpong-1core pingpong-2core pingpong-4core rogue batching repeatable polling
       device-irq net-echo-1core net-echo-2core net-arp-ping net-bad-descriptors
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 2000  # systems/pingpong.json


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def system_variant(work, name, source, change):
    """A copy of description `source` with change(description) applied, in the work directory."""
    system = json.loads((REPO / source).read_text())
    change(system)
    path = Path(work) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(system))
    return path


def run(build, work, name, system, placement=None, timeout=240, stop_on=None, extra=(),
        expect_failure=False):
    out = Path(work) / name
    cmd = [sys.executable, str(REPO / "experiments/run"), str(REPO / system), "--no-build",
           "--quiet", "--build-dir", str(build), "--out", str(out), "--timeout", str(timeout)]
    if placement:
        cmd += ["--placement", str(REPO / placement)]
    if stop_on:
        cmd += ["--stop-on", stop_on]
    cmd += list(extra)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    summary_path = out / "summary.json"
    check(summary_path.exists(), f"{name}: no summary.json ({done.stderr.strip()})")
    with open(summary_path) as f:
        summary = json.load(f)
    if expect_failure:
        check(done.returncode != 0 and summary.get("status") != "ok",
              f"{name}: the run should have failed")
    else:
        check(done.returncode == 0 and summary.get("status") == "ok",
              f"{name}: run failed: {summary.get('reason', done.stderr.strip())}")
    console = (out / "console.log").read_text(errors="replace")
    return summary, console


def pingpong(build, work, cores):
    placement = {1: "systems/placements/pingpong-1core.json",
                 2: "systems/placements/pingpong-2core-immediate.json",
                 4: "systems/placements/pingpong-4core.json"}[cores]
    s, console = run(build, work, f"pingpong-{cores}core", "systems/pingpong.json", placement)
    check("ping: ping-pong done" in console, "ping did not report the end of its rounds")
    check(s["cores"] == cores, f"ran on {s['cores']} cores, expected {cores}")
    for pd in ("ping", "pong"):
        got = s["pd_counters"][pd].get("notifications")
        check(got == ROUNDS, f"{pd} saw {got} notifications, expected {ROUNDS}")
    # Totals, not phase 1: an event racing with another core's phase switch
    # may land in the next phase (docs/kernel.md).
    events = s["total"]["events"]
    kind = "notify_same_core" if cores == 1 else "notify_cross_core"
    check(events.get(kind) == 2 * ROUNDS, f"{kind} = {events.get(kind)}, expected {2 * ROUNDS}")
    if cores > 1:
        check(events.get("sgi_sent") == 2 * ROUNDS,
              f"immediate batching: {events.get('sgi_sent')} SGIs for {2 * ROUNDS} notifications")
        check(events.get("sgi_received", 0) <= events["sgi_sent"], "more SGIs received than sent")
    for pd in ("ping", "pong"):
        user = s["phases"]["1"]["pds"][pd]["instructions"]["user"]
        check(user > 0, f"the plugin counted no instructions in {pd}")
    return f"{ROUNDS} rounds on {cores} core(s), {events.get(kind)} notifications"


def rogue(build, work):
    s, console = run(build, work, "rogue", "systems/rogue.json")
    faults = {f["pd"]: f["what"] for f in s["faults"]}
    check("write, translation fault" in faults.get("rogue", ""),
          f"the rogue's stray write was not reported as such: {faults}")
    check("address 0x30000000" in faults.get("rogue", ""), "the report does not name the address")
    check("undefined instruction" in faults.get("rogue_undefined", ""),
          f"the undefined instruction was not reported: {faults}")
    check(s["pd_states"]["rogue"] == "faulted" and s["pd_states"]["rogue_undefined"] == "faulted",
          f"rogues not stopped: {s['pd_states']}")
    check("still running" not in console, "a rogue went on after its fault")
    for pd in ("ping", "pong"):
        check(s["pd_counters"][pd].get("notifications") == 500,
              f"{pd} did not finish beside the rogues: {s['pd_counters'][pd]}")
    return "both rogues stopped and named; ping-pong finished beside them"


def batching(build, work):
    sgis = {}
    for policy in ("immediate", "end-of-handler", "coalesce"):
        s, console = run(build, work, f"fanout-{policy}", "systems/fanout.json",
                         f"systems/placements/fanout-4core-{policy}.json")
        check("hub: fan-out done" in console, f"{policy}: the fan-out did not finish")
        hub_core = s["phases"]["1"]["cores"][0]["events"]
        sgis[policy] = hub_core["sgi_sent"]
        check(hub_core["notify_cross_core"] == 6 * 500,
              f"{policy}: hub sent {hub_core['notify_cross_core']} notifications, expected 3000")
    check(sgis["immediate"] == 3000, f"immediate: {sgis['immediate']} SGIs from the hub, "
          "expected one per notification (3000)")
    check(sgis["end-of-handler"] == 1500, f"end of handler: {sgis['end-of-handler']} SGIs, "
          "expected one per target core per round (1500)")
    check(sgis["coalesce"] < sgis["immediate"], f"coalescing sent {sgis['coalesce']} SGIs, no "
          f"fewer than immediate ({sgis['immediate']})")
    return f"hub SGIs for 3000 notifications: {sgis}"


def repeatable(build, work):
    runs = [run(build, work, f"repeat-{i}", "systems/pingpong.json",
                "systems/placements/pingpong-1core.json")[0] for i in (1, 2)]
    per_pd = [{pd: v["instructions"] for pd, v in r["phases"]["1"]["pds"].items()} for r in runs]
    check(per_pd[0] == per_pd[1], f"per-PD counts differ between two runs: {per_pd}")
    kernel = [r["phases"]["1"]["kernel_instructions"] for r in runs]
    check(kernel[0] == kernel[1], f"kernel instructions differ between two runs: {kernel}")
    return f"identical per-PD and kernel counts in two runs: {per_pd[0]}"


def polling(build, work):
    s, _ = run(build, work, "polling", "systems/stream.json",
               "systems/placements/stream-2core-polling.json")
    events = s["total"]["events"]
    check(events["notify_cross_core"] == 2000, f"{events['notify_cross_core']} notifications sent")
    check(events["sgi_sent"] == 0, f"{events['sgi_sent']} SGIs sent to a polling core")
    check(events["flush_to_polling_core"] == 2000,
          f"{events['flush_to_polling_core']} flushes to the polling core, expected 2000")
    deliveries = s["pd_counters"]["sink"].get("deliveries", 0)
    check(0 < deliveries <= 2000, f"the polling sink saw {deliveries} deliveries")
    return f"2000 notifications to a polling core without an SGI, {deliveries} deliveries"


def device_irq(build, work):
    s, console = run(build, work, "device-irq", "systems/rtc-alarm.json",
                     stop_on=r"^clock: alarms done")
    check("clock: alarms done" in console, "the RTC driver did not see its three alarms")
    counters = s["pd_counters"]["clock"]
    check(counters.get("alarms") == 3 and counters.get("spurious") == 0,
          f"clock counters: {counters}")
    events = s["total"]["cores"][1]["events"]
    check(events["device_irqs"] == 3 and events["irq_acks"] == 3,
          f"core 1: {events['device_irqs']} device interrupts, {events['irq_acks']} acks")
    for pd in ("ping", "pong"):
        check(s["pd_counters"][pd].get("notifications") == 500, f"{pd} did not finish")
    return "three PL031 alarms delivered to their PD and re-enabled by its acks"


NET_PACKETS = 10000


def check_echoes(s, packets):
    total = s["load"]["total"]
    check(total["sent"] == packets and total["echoed"] == packets,
          f"{total['echoed']} of {total['sent']} packets echoed, expected {packets}")
    for key in ("lost", "corrupted", "duplicated", "unexpected"):
        check(total[key] == 0, f"{total[key]} packets {key}")
    per_client = [t["echoed"] for t in s["load"]["targets"]]
    check(per_client == [packets // 2, packets // 2],
          f"echoes per client {per_client}, expected {packets // 2} each")


def net_echo(build, work, cores):
    s, _ = run(build, work, f"net-echo-{cores}core", "systems/net-echo.json",
               f"systems/placements/net-echo-{cores}core.json",
               extra=["--packets", str(NET_PACKETS), "--window", "64"])
    check_echoes(s, NET_PACKETS)
    per_packet = s["per_io"]["all_instructions"]
    return (f"{NET_PACKETS} UDP packets echoed intact by both clients on {cores} core(s), "
            f"{per_packet:,.0f} instructions per packet")


def net_arp_ping(build, work):
    s, _ = run(build, work, "net-arp-ping", "systems/net-echo.json",
               "systems/placements/net-echo-2core.json",
               extra=["--packets", "1000", "--loadgen-mode", "all"])
    for target in s["load"]["targets"]:
        check(target["arp"] == "ok", f"ARP for {target['ip']}: {target['arp']}")
        ping = target["ping"] or {}
        check(ping.get("sent", 0) > 0 and ping.get("replied") == ping.get("sent")
              and ping.get("bad", 1) == 0, f"ping {target['ip']}: {ping}")
    check_echoes(s, 1000)
    clients = s["pd_counters"]
    check(clients["client0"]["icmp_replies"] > 0 and clients["client1"]["icmp_replies"] > 0,
          "a client answered no ping")
    return "ARP and ping answered by both clients; 1000 UDP packets echoed"


def net_bad_descriptors(build, work):
    s, _ = run(build, work, "net-bad-descriptors", "systems/net-echo.json",
               "systems/placements/net-echo-2core.json",
               extra=["--packets", str(NET_PACKETS), "--set", "ethernet_driver.inject_bad_every=50"])
    injected = s["pd_counters"]["ethernet_driver"]["injected_bad_desc"]
    dropped = s["pd_counters"]["net_virt_rx"]["bad_driver_desc"]
    check(injected >= NET_PACKETS // 50, f"the driver injected only {injected} bad descriptors")
    check(dropped == injected, f"{injected} bad descriptors injected, {dropped} dropped")
    check_echoes(s, NET_PACKETS)
    check(not s["faults"], f"faults: {s['faults']}")
    return f"{injected} bad descriptors dropped and counted; every packet still echoed"


def run_named_test(doc, make_tests):
    """The command line of the check_*.py scripts: BUILD_DIR WORK_DIR TEST."""
    if len(sys.argv) != 4:
        print(doc, file=sys.stderr)
        return 2
    build, work, test = sys.argv[1:]
    tests = make_tests(build, work)
    if test not in tests:
        print(f"unknown test {test!r}; tests: {' '.join(tests)}", file=sys.stderr)
        return 2
    try:
        print(f"ok: {tests[test]()}")
    except Failure as err:
        print(f"FAIL: {err}", file=sys.stderr)
        return 1
    return 0


def all_tests(build, work):
    return {
        "pingpong-1core": lambda: pingpong(build, work, 1),
        "pingpong-2core": lambda: pingpong(build, work, 2),
        "pingpong-4core": lambda: pingpong(build, work, 4),
        "rogue": lambda: rogue(build, work),
        "batching": lambda: batching(build, work),
        "repeatable": lambda: repeatable(build, work),
        "polling": lambda: polling(build, work),
        "device-irq": lambda: device_irq(build, work),
        "net-echo-1core": lambda: net_echo(build, work, 1),
        "net-echo-2core": lambda: net_echo(build, work, 2),
        "net-arp-ping": lambda: net_arp_ping(build, work),
        "net-bad-descriptors": lambda: net_bad_descriptors(build, work),
    }


if __name__ == "__main__":
    sys.exit(run_named_test(__doc__, all_tests))
