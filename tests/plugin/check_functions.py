#!/usr/bin/env python3
"""Check pinion-count's per-function counts (symbols=) for tests/plugin/prog.S.

usage: check_functions.py PARAMS_H RUN1.json RUN1.uart RUN2.json RUN2.uart
                          [NO_SYMBOLS.json ...]

RUN1 and RUN2 are exact-mode runs with symbols= maps that cover all of the
program's text (from _start to prog.ld's text_end), the second written
shuffled and with aliases and lines that are no text symbol, which must
not change a thing. Checked:

  - in every phase, the functions add up to every instruction the report
    counts in that phase (all of them lie in the mapped range);
  - the two runs agree on every function but wait_for_vcpu1 (vCPU 0
    spinning on vCPU 1, the only nondeterministic code), whose total is
    checked against the iteration counts the program prints; in the second
    map back_b is called back_a, so there the two are one entry, summed;
  - a few functions' counts derived from params.h, as check_counts.py does;
  - aliases resolve to the preferred name, each list is sorted, largest
    first, with no zero and no repeated name;
  - a report made without symbols= has no "functions" section.
"""
import json
import re
import sys

WAIT_FUNCTION = "wait_for_vcpu1"


def params(path):
    return {m.group(1): int(m.group(2), 0) for m in re.finditer(
        r"^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", open(path).read(), re.M)}


def waits(uart_path):
    w = [int(x, 16) for x in re.findall(r"^W ([0-9a-f]{16})$", open(uart_path).read(), re.M)]
    if len(w) != 3:
        raise SystemExit(f"{uart_path}: expected 3 'W <hex>' lines, got {w}")
    return w


def phase_totals(report):
    """phase -> every instruction the report counts in it, over vCPUs, owners and modes."""
    totals = {}
    for vcpu in report["per_vcpu"]:
        for phase in vcpu["phases"]:
            totals[phase["phase"]] = totals.get(phase["phase"], 0) + sum(
                o["kernel"] + o["user"] + o.get("guest_kernel", 0) for o in phase["owners"])
    return totals


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


def check_run(ck, name, report, uart, p):
    """Returns {phase: {function: count}}."""
    ck.eq(f"{name}: version", report.get("version"), 3)
    section = report.get("functions")
    if not isinstance(section, dict):
        ck.true(f"{name}: a \"functions\" section", False)
        return {}
    ck.true(f"{name}: functions.symbols names the map",
            str(section.get("symbols", "")).endswith(".map"))
    per_phase = {}
    for entry in section["phases"]:
        counts = entry["counts"]
        values = [c for _, c in counts]
        names = [n for n, _ in counts]
        ck.true(f"{name}: phase {entry['phase']} sorted largest first",
                values == sorted(values, reverse=True))
        ck.true(f"{name}: phase {entry['phase']} has no zero", all(v > 0 for v in values))
        ck.eq(f"{name}: phase {entry['phase']} names unique", len(set(names)), len(names))
        per_phase[entry["phase"]] = dict(counts)
    totals = phase_totals(report)
    for phase in sorted(set(totals) | set(per_phase)):
        ck.eq(f"{name}: phase {phase}: functions add up to every instruction counted",
              sum(per_phase.get(phase, {}).values()), totals.get(phase, 0))
    names = {n for counts in per_phase.values() for n in counts}
    ck.true(f"{name}: aliases resolve to _start (got {sorted(names)})",
            "_start" in names and not names & {"$x", ".Lalias", "start_alias"})

    loop = lambda n: 1 + 2 * n  # noqa: E731  movz; n x (subs, b.ne)
    ia, ir, ib = waits(uart)
    wait_total = sum(c.get(WAIT_FUNCTION, 0) for c in per_phase.values())
    # OWNER_WAIT's 9 + 3 iA + 7 iR + 3 iB but the final SWITCH (3), in `waited`.
    ck.eq(f"{name}: {WAIT_FUNCTION} (iA={ia} iR={ir} iB={ib})", wait_total,
          6 + 3 * ia + 7 * ir + 3 * ib)
    ck.eq(f"{name}: print_hex in phase 15", per_phase.get(15, {}).get("print_hex"), 3 * 152)
    # el1_a: the trapped mrs is counted once (exact mode), then skipped.
    ck.eq(f"{name}: el1_a in phase 0", per_phase.get(0, {}).get("el1_a"),
          loop(p["N_AU"]) + p["K_TRAP_A"] + 1)
    ck.eq(f"{name}: el1_b in phase 1", per_phase.get(1, {}).get("el1_b"), loop(p["N_BU"]) + 1)
    ck.eq(f"{name}: el1_c in phase 2", per_phase.get(2, {}).get("el1_c"), loop(p["N_CU"]) + 1)
    return per_phase


def without_wait(per_phase, renamed=None):
    """The counts but WAIT_FUNCTION's, with the functions `renamed` (old: new) summed
    under their new names."""
    renamed = renamed or {}
    result = {}
    for phase, counts in per_phase.items():
        merged = {}
        for n, c in counts.items():
            if n != WAIT_FUNCTION:
                merged[renamed.get(n, n)] = merged.get(renamed.get(n, n), 0) + c
        result[phase] = merged
    return result


def main(argv):
    if len(argv) < 6:
        raise SystemExit(__doc__)
    p = params(argv[1])
    ck = Checker()
    runs = []
    for name, js, uart in (("symbols run 1", argv[2], argv[3]),
                           ("symbols run 2", argv[4], argv[5])):
        runs.append(check_run(ck, name, json.load(open(js)), uart, p))
    ck.eq("the two runs agree on every function but " + WAIT_FUNCTION,
          without_wait(runs[1]), without_wait(runs[0], {"back_b": "back_a"}))
    ck.true("back_a and back_b are one entry with the second map",
            "back_b" not in {n for counts in runs[1].values() for n in counts})
    for path in argv[6:]:
        report = json.load(open(path))
        ck.eq(f"{path}: version", report.get("version"), 3)
        ck.true(f"{path}: no \"functions\" without symbols=", "functions" not in report)
    for phase, counts in sorted(runs[0].items()):
        print(f"  phase {phase}: " + ", ".join(f"{n} {c}" for n, c in counts.items()))
    if ck.errors:
        print(f"{ck.errors} function check(s) failed")
        return 1
    print("all per-function checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
