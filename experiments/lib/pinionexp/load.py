"""Driving pinion-loadgen against a running system's network device."""

import json
import subprocess
from pathlib import Path

from .runner import RunError

ECHO_CLIENT_PROGRAM = "net_echo_client"


def echo_targets(system_path):
    """MAC,IP,PORT of every echo client in the description, in description order."""
    with open(system_path) as f:
        system = json.load(f)
    targets = []
    for component in system.get("components", []):
        if component.get("program") != ECHO_CLIENT_PROGRAM:
            continue
        params = component.get("params", {})
        if "mac" not in params or "ip" not in params:
            raise RunError(f"echo client {component['name']!r} has no \"mac\" or \"ip\" parameter")
        targets.append(f"{params['mac']},{params['ip']},{params.get('udp_port', 1235)}")
    if not targets:
        raise RunError(f"{system_path}: no echo client ({ECHO_CLIENT_PROGRAM}) to send to")
    return targets


def run_loadgen(tool, net, targets, mode, out_json, packets=None, window=None, size=None,
                timeout=10):
    """Runs pinion-loadgen once; returns its JSON report (and whether it was content)."""
    cmd = [str(tool), "--port", str(net.qemu_port), "--listen", str(net.loadgen_port),
           "--mode", mode, "--timeout", str(timeout), "--json", str(out_json), "--quiet"]
    for target in targets:
        cmd += ["--target", target]
    if packets is not None:
        cmd += ["--packets", str(packets)]
    if window is not None:
        cmd += ["--window", str(window)]
    if size is not None:
        cmd += ["--size", str(size)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode == 2 or not Path(out_json).exists():
        raise RunError(f"pinion-loadgen could not run ({' '.join(cmd)}): {done.stderr.strip()}")
    with open(out_json) as f:
        report = json.load(f)
    report["command"] = " ".join(cmd)
    return report, done.returncode == 0
