"""The instruction-counting plugin's output (docs/accounting.md)."""

import json


class Counts:
    """Retired instructions by (phase, core, owner, mode): mode 'kernel' (pinion's),
    'user' (native PDs, a guest's user space) or 'guest_kernel' (a guest's kernel)."""

    def __init__(self, doc):
        self.mode = doc.get("mode")
        self.markers = doc.get("markers", {})
        self.totals = {}  # core -> every instruction it retired
        self.cells = {}  # (phase, core, owner) -> {"kernel": k, "user": u}
        for vcpu in doc["per_vcpu"]:
            core = vcpu["vcpu"]
            self.totals[core] = vcpu["total"]
            for phase in vcpu["phases"]:
                for owner in phase["owners"]:
                    self.cells[(phase["phase"], core, owner["owner"])] = {
                        "kernel": owner["kernel"], "user": owner["user"],
                        "guest_kernel": owner.get("guest_kernel", 0)}

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f))

    def phases(self):
        return sorted({p for (p, _, _) in self.cells})

    def select(self, phase=None, core=None, owner=None):
        """Sums kernel and user instructions over the cells that match."""
        kernel = user = guest_kernel = 0
        for (p, c, o), cell in self.cells.items():
            if (phase is None or p == phase) and (core is None or c == core) and \
                    (owner is None or o == owner):
                kernel += cell["kernel"]
                user += cell["user"]
                guest_kernel += cell["guest_kernel"]
        return {"kernel": kernel, "user": user, "guest_kernel": guest_kernel,
                "total": kernel + user + guest_kernel}
