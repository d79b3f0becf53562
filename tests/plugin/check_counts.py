#!/usr/bin/env python3
"""Check pinion-count's reports for tests/plugin/prog.S.

usage: check_counts.py PARAMS_H EXACT1.json EXACT1.uart EXACT2.json EXACT2.uart
                       TB.json TB.uart [LOG_REPORT.json LOG_REPORT.uart]

Expected counts are derived here from params.h and the structure of prog.S
(the same derivation as the comments there), never from a run:

  retired[k]  instructions that completed, per (vcpu, phase, owner) and mode
  exact[k]    = retired[k] + faulting attempts at k   (the exact-mode bound:
                one extra count per synchronous exception taken on an
                instruction that did not complete)
  tb[k]       = exact[k] + the rest of each block left by such an exception

OWNER_WAIT (vCPU 0 spinning on vCPU 1) is the only nondeterministic part:
its total is checked against the iteration counts the program prints, and
its split between phases 1 and 2 only loosely (vCPU 1 sets phase 2 while
vCPU 0 spins).
"""
import json
import re
import sys

K, U = "kernel", "user"


def params(path):
    p = {}
    for m in re.finditer(r"^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b",
                         open(path).read(), re.M):
        p[m.group(1)] = int(m.group(2), 0)
    return p


def expected(p):
    """Return (retired, faults, tails, markers) for prog.S."""
    A, B, C, F7, MAX, PRINT = (p["OWNER_A"], p["OWNER_B"], p["OWNER_C"],
                               p["OWNER_F7"], p["OWNER_MAX"], p["OWNER_PRINT"])
    LOOP = lambda n: 1 + 2 * n          # movz; n x (subs, b.ne)
    SWITCH, PHASE, SETUP_EL2, ENTER_USER = 3, 2, 5, 7
    HVC_PATH, TRAP_PATH = 6, 10         # lower-EL vector: hvc / trapped msr
    SKIP_PATH, RETRY_PATH = 5, 3        # current-EL vector: skip / retry
    FAULT_BLOCK = lambda k: k + 2       # movz, b, k after the load (load apart)
    PRINT_HEX = 5 + 16 * 9 + 3

    r = {}                              # retired: (vcpu, phase, owner) -> {K, U}

    def add(vcpu, phase, owner, mode, n):
        e = r.setdefault((vcpu, phase, owner), {K: 0, U: 0})
        e[mode] += n

    # vCPU 0, phase 0
    add(0, 0, 0, K, SETUP_EL2 + 1 + LOOP(p["N_BOOT"]) + SWITCH)
    add(0, 0, A, K, LOOP(p["N_AK"]) + FAULT_BLOCK(p["K_FAULT_A"]) + SKIP_PATH
        + ENTER_USER + TRAP_PATH + HVC_PATH + SWITCH)
    add(0, 0, A, U, LOOP(p["N_AU"]) + p["K_TRAP_A"])   # the msr does not complete
    add(0, 0, 0, K, PHASE)
    # vCPU 0, phase 1: CPU_ON (ldr, mov, adr, mov, smc, cbnz), adr, switch to WAIT
    add(0, 1, 0, K, 7 + SWITCH)
    # (OWNER_WAIT: checked separately)
    add(0, 2, 0, K, PHASE)
    add(0, 3, 0, K, SWITCH)
    add(0, 3, A, K, LOOP(p["N_A3"]) + PHASE)
    add(0, 15, A, K, SWITCH)
    add(0, 15, MAX, K, LOOP(p["N_MAX"]) + SWITCH)
    add(0, 15, PRINT, K, 1 + 3 * (2 + PRINT_HEX) + 2)   # movz; 3 x (mov, bl, print); ldr, smc

    # vCPU 1, first run (phase 1)
    add(1, 1, 0, K, SETUP_EL2 + 1 + SWITCH)
    add(1, 1, B, K, LOOP(p["N_BK"]) + FAULT_BLOCK(p["K_FAULT_B"]) + SKIP_PATH
        + 9 + ENTER_USER + HVC_PATH + SWITCH)            # 9: the malformed sequences
    add(1, 1, F7, K, LOOP(p["N_F7"]) + SWITCH)
    add(1, 1, B, U, LOOP(p["N_BU"]) + 1)                # + hvc
    add(1, 1, 0, K, 4 + 2)                              # set flag; CPU_OFF
    # vCPU 1, second run: starts in phase 1, sets phase 2
    add(1, 1, 0, K, PHASE)
    add(1, 2, 0, K, SETUP_EL2 + 1 + SWITCH)
    add(1, 2, C, K, LOOP(p["N_CK"]) + ENTER_USER + HVC_PATH
        + FAULT_BLOCK(p["K_FAULT_C"]) + 1 + RETRY_PATH + SWITCH)  # + 1: the retried load completes
    add(1, 2, C, U, LOOP(p["N_CU"]) + 1)
    add(1, 2, 0, K, 4 + 2)

    # Synchronous exceptions on instructions that did not complete (the
    # faulting attempt), and how many instructions after each one its block
    # still held (what mode=tb counts for nothing).
    faults = {(0, 0, A, K): 1, (0, 0, A, U): 1, (1, 1, B, K): 1, (1, 2, C, K): 1}
    tails = {(0, 0, A, K): p["K_FAULT_A"], (0, 0, A, U): p["K_TRAP_A"],
             (1, 1, B, K): p["K_FAULT_B"], (1, 2, C, K): p["K_FAULT_C"]}

    markers = {
        # vCPU 0: A, 0, WAIT, 0, A, MAX, PRINT; vCPU 1: B, F7, B, 0, C, 0
        "switch": 7 + 4 + 2,
        # ENTER_USER x 3, trap path x 1
        "pd_entry": 4,
        # lower-EL vector: vCPU 0 trap + hvc, vCPU 1 hvc in each run
        "kernel_entry": 4,
        # vCPU 0: 1, 3, 15; vCPU 1: 2
        "phase": 4,
        # SWITCH+nibble+add, stray nibble, PHASE+nop
        "malformed": 3,
    }
    return r, faults, tails, markers


def table(report):
    """(vcpu, phase, owner) -> {K, U} from a report, and totals per vcpu."""
    t, totals = {}, {}
    for v in report["per_vcpu"]:
        totals[v["vcpu"]] = v["total"]
        for ph in v["phases"]:
            for o in ph["owners"]:
                t[(v["vcpu"], ph["phase"], o["owner"])] = {K: o["kernel"], U: o["user"]}
    return t, totals


def waits(uart_path):
    w = [int(x, 16) for x in re.findall(r"^W ([0-9a-f]{16})$",
                                        open(uart_path).read(), re.M)]
    if len(w) != 3:
        raise SystemExit(f"{uart_path}: expected 3 'W <hex>' lines, got {w}")
    return w


class Checker:
    def __init__(self):
        self.errors = 0

    def eq(self, what, got, want):
        if got != want:
            print(f"FAIL {what}: got {got}, expected {want}")
            self.errors += 1

    def true(self, what, cond):
        if not cond:
            print(f"FAIL {what}")
            self.errors += 1


def fmt(k):
    return "vcpu %d phase %d owner 0x%02x" % k


def check_report(ck, name, report, uart, want, p, mode):
    wait = p["OWNER_WAIT"]
    ck.eq(f"{name}: plugin", report.get("plugin"), "pinion-count")
    ck.eq(f"{name}: version", report.get("version"), 3)
    ck.eq(f"{name}: guest", report.get("guest"), "pinion")
    # The program runs at low addresses only: nothing may count as a guest's kernel.
    upper = sum(o.get("guest_kernel", -1) for v in report.get("per_vcpu", [])
                for ph in v["phases"] for o in ph["owners"])
    ck.eq(f"{name}: guest_kernel instructions", upper, 0)
    ck.eq(f"{name}: mode", report.get("mode"), mode)
    ck.eq(f"{name}: vcpus", report.get("vcpus"), 2)
    got, totals = table(report)
    for k in sorted(set(want) | set(got)):
        if k[2] == wait and k[0] == 0:
            continue
        ck.eq(f"{name}: {fmt(k)}", got.get(k), want.get(k))
    # Totals: every instruction, i.e. the sum of the entries.
    for v in (0, 1):
        s = sum(e[K] + e[U] for k, e in got.items() if k[0] == v)
        ck.eq(f"{name}: vcpu {v} total == sum of entries", totals.get(v), s)
    # OWNER_WAIT on vCPU 0: 9 + 3 iA + 7 iR + 3 iB, kernel, phases 1 and 2.
    ia, ir, ib = waits(uart)
    w = {k[1]: e for k, e in got.items() if k[0] == 0 and k[2] == wait}
    ck.true(f"{name}: OWNER_WAIT only in phases 1, 2 (got {sorted(w)})", set(w) <= {1, 2})
    ck.eq(f"{name}: OWNER_WAIT user", sum(e[U] for e in w.values()), 0)
    ck.eq(f"{name}: OWNER_WAIT total (iA={ia} iR={ir} iB={ib})",
          sum(e[K] for e in w.values()), 9 + 3 * ia + 7 * ir + 3 * ib)
    ck.true(f"{name}: OWNER_WAIT phase 1 >= wait for run 1 and CPU_ON retries",
            w.get(1, {K: 0})[K] >= 3 * ia + 7 * ir + 2)
    ck.true(f"{name}: OWNER_WAIT phase 2 >= instructions after the last flag load",
            w.get(2, {K: 0})[K] >= 4)
    return got


def without_wait(t, p):
    return {k: e for k, e in t.items() if not (k[0] == 0 and k[2] == p["OWNER_WAIT"])}


def main(argv):
    if len(argv) not in (8, 10):
        raise SystemExit(__doc__)
    p = params(argv[1])
    retired, faults, tails, markers = expected(p)
    exact = {k: dict(e) for k, e in retired.items()}
    for k, n in faults.items():
        exact[k[:3]][k[3]] += n
    tb = {k: dict(e) for k, e in exact.items()}
    for k, n in tails.items():
        tb[k[:3]][k[3]] += n

    ck = Checker()
    runs = [("exact run 1", argv[2], argv[3], exact, "exact"),
            ("exact run 2", argv[4], argv[5], exact, "exact"),
            ("tb run", argv[6], argv[7], tb, "tb")]
    if len(argv) == 10:
        runs.append(("exact run via -d plugin", argv[8], argv[9], exact, "exact"))
    tables = {}
    for name, js, uart, want, mode in runs:
        report = json.load(open(js))
        tables[name] = check_report(ck, name, report, uart, want, p, mode)
        ck.eq(f"{name}: markers", report.get("markers"), markers)

    # The two exact runs agree everywhere but in OWNER_WAIT.
    ck.eq("exact runs identical (but OWNER_WAIT)",
          without_wait(tables["exact run 2"], p), without_wait(tables["exact run 1"], p))
    # tb differs from exact exactly at the faults, by the rest of the block.
    e1, t1 = without_wait(tables["exact run 1"], p), without_wait(tables["tb run"], p)
    diff = {}
    for k in set(e1) | set(t1):
        for m in (K, U):
            d = t1.get(k, {K: 0, U: 0})[m] - e1.get(k, {K: 0, U: 0})[m]
            if d:
                diff[k + (m,)] = d
    ck.eq("tb - exact", diff, tails)

    total_retired = sum(e[K] + e[U] for e in retired.values())
    print("expected (but OWNER_WAIT): %d retired, exact mode +%d (faulting attempts), "
          "tb mode +%d more" % (total_retired, sum(faults.values()), sum(tails.values())))
    for k in sorted(retired):
        print("  %-28s retired K=%-7d U=%-7d exact K=%-7d U=%-7d tb K=%-7d U=%-7d" % (
            fmt(k), retired[k][K], retired[k][U], exact[k][K], exact[k][U],
            tb[k][K], tb[k][U]))
    if ck.errors:
        print(f"{ck.errors} check(s) failed")
        return 1
    print("all plugin count checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
