#!/usr/bin/env python3
"""check_dunestat.py BINARY CHECK: acceptance checks of dunestat.

json       `dunestat --json --iterations 50`: every row with native and Dune medians > 0
           and the ratios computed from them. Exit 77 (skip) where Dune mode is unavailable
           for want of a usable /dev/kvm, unless DUNE_REQUIRE_KVM=1 (then it fails).
svg        `--svg FILE` writes well-formed SVG with one bar pair per row (native only where
           Dune mode is unavailable).
no-kvm     with DUNE_KVM_DEVICE naming no device: the native column, the reason Dune mode
           is missing, status 0; and status 1 under --require-dune.
bad-input  bad input gives status 2 and one clear line on stderr, before measuring anything.
Timings are never asserted: only that they exist and are consistent.
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROWS = ["tsc", "syscall", "kernel_fault", "user_fault", "appel1", "appel2", "exit_floor", "thread",
        "fork", "signal"]
SVG = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print(f"check_dunestat: FAIL: {msg}")
    return 1


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=240)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def check_json(binary):
    p = run(binary, "--json", "--iterations", "50")
    if p.returncode != 0:
        return fail(f"status {p.returncode}; stderr: {p.stderr}")
    report = json.loads(p.stdout)
    if not report["dune"]["available"]:
        reason = report["dune"]["reason"]
        device = os.environ.get("DUNE_KVM_DEVICE") or "/dev/kvm"  # as libdune opens it
        kvm_usable = os.access(device, os.R_OK | os.W_OK)
        if kvm_usable or os.environ.get("DUNE_REQUIRE_KVM") == "1":
            return fail(f"Dune mode unavailable ({reason}), {device} usable: {kvm_usable}")
        print(f"check_dunestat: SKIP: Dune mode unavailable: {reason}")
        return 77
    rows = {r["key"]: r for r in report["rows"]}
    if sorted(rows) != sorted(ROWS):
        return fail(f"rows {sorted(rows)}, expected {sorted(ROWS)}")
    problems = list(report["problems"])
    for key, r in rows.items():
        for mode in ("native", "dune"):
            s = r[mode]
            if s is None or not s["median"] > 0 or s["reps"] != 50:
                problems.append(f"{key}: {mode} figures {s} (missing: {r[mode + '_missing']})")
        if not problems and not close(r["dune_to_native"], r["dune"]["median"] / r["native"]["median"]):
            problems.append(f"{key}: dune_to_native {r['dune_to_native']} is not the ratio of the medians")
    if not problems:
        floor = rows["exit_floor"]["dune"]["median"]
        sys_dune = rows["syscall"]["dune"]["median"]
        if not close(rows["syscall"]["dune_to_floor"], sys_dune / floor):
            problems.append(f"syscall: dune_to_floor {rows['syscall']['dune_to_floor']} is not {sys_dune}/{floor}")
        for key in ("appel1", "appel2"):
            pf = rows[key]["per_fault"]
            if pf["faults_per_rep"] != 100 or not close(pf["dune"]["median"] * 100, rows[key]["dune"]["median"]):
                problems.append(f"{key}: per-fault figures {pf} do not match the per-pass ones")
    for m in ("cpu", "kernel", "kvm_flavour", "tsc"):
        if not report["machine"].get(m):
            problems.append(f"machine.{m} is empty")
    for pr in problems:
        print(f"check_dunestat: {pr}")
    if problems:
        return fail(f"{len(problems)} problem(s)")
    print(f"check_dunestat: json ok: {len(rows)} rows; System call in Dune mode / VM exit floor = "
          f"{rows['syscall']['dune_to_floor']:.3f}")
    return 0


def check_svg(binary):
    with tempfile.TemporaryDirectory(prefix="dunestat-") as d:
        path = os.path.join(d, "chart.svg")
        p = run(binary, "--json", "--iterations", "3", "--svg", path)
        if p.returncode != 0:
            return fail(f"status {p.returncode}; stderr: {p.stderr}")
        report = json.loads(p.stdout)
        root = ET.parse(path).getroot()  # raises on malformed XML
    if root.tag != SVG + "svg":
        return fail(f"the root element is {root.tag}")
    pairs = [g for g in root.iter(SVG + "g") if g.get("class") == "pair"]
    keys = [g.get("data-row") for g in pairs]
    if keys != ROWS:
        return fail(f"bar pairs for {keys}, expected {ROWS}")
    dune = report["dune"]["available"]
    for g, row in zip(pairs, report["rows"]):
        bars = {r.get("class"): r for r in g.iter(SVG + "rect")}
        # A bar for each median the run has (all of them where Dune mode is available).
        want = {m for m in ("native", "dune") if row[m] and row[m]["median"] > 0}
        if dune and want != {"native", "dune"}:
            return fail(f"row {row['key']}: medians missing in {row}")
        if set(bars) != want or any(float(b.get("width")) <= 0 for b in bars.values()):
            return fail(f"row {row['key']}: bars {sorted(bars)}, expected {sorted(want)} of positive width")
        if not any(t.text and t.text.strip() for t in g.iter(SVG + "text")):
            return fail(f"row {row['key']} has no label")
    print(f"check_dunestat: svg ok: {len(pairs)} bar pairs (Dune mode {'available' if dune else 'unavailable'})")
    return 0


def check_no_kvm(binary):
    env = dict(os.environ, DUNE_KVM_DEVICE="/nonexistent/kvm")
    p = subprocess.run([binary, "--json", "--iterations", "3"], capture_output=True, text=True, timeout=240, env=env)
    if p.returncode != 0:
        return fail(f"status {p.returncode} without KVM; stderr: {p.stderr}")
    report = json.loads(p.stdout)
    reason = report["dune"]["reason"] or ""
    if report["dune"]["available"] or "/nonexistent/kvm" not in reason:
        return fail(f"the report does not say why Dune mode is missing: {report['dune']}")
    for r in report["rows"]:
        if r["key"] != "exit_floor" and not (r["native"] and r["native"]["median"] > 0 and r["dune"] is None):
            return fail(f"row {r['key']}: native {r['native']}, dune {r['dune']}")
    p = subprocess.run([binary, "--iterations", "1", "--only", "syscall", "--require-dune"], capture_output=True,
                       text=True, timeout=240, env=env)
    if p.returncode != 1 or "unavailable" not in p.stdout or "--require-dune" not in p.stderr:
        return fail(f"--require-dune without KVM: status {p.returncode}, stderr {p.stderr!r}")
    print(f"check_dunestat: no-kvm ok: native column kept, reason given: {reason}")
    return 0


def check_bad_input(binary):
    with tempfile.TemporaryDirectory(prefix="dunestat-") as d:
        cases = [
            (["--iterations", "0"], "--iterations must be at least 1"),
            (["--iterations", "-5"], "--iterations must be at least 1"),
            (["--only", "nosuchrow"], "no row is called 'nosuchrow'"),
            (["--only", "syscall,nosuchrow"], "no row is called 'nosuchrow'"),
            (["--svg", os.path.join(d, "no", "such", "dir", "chart.svg")], "cannot write the chart"),
            (["--svg", d], "cannot write the chart"),  # a directory
            (["--seconds", "0"], "--seconds must be more than 0"),
            (["--json", "--csv"], "exclude each other"),
            (["--no-such-option"], "no-such-option"),
        ]
        problems = []
        for args, mention in cases:
            p = run(binary, *args)
            lines = p.stderr.splitlines()
            if p.returncode != 2 or len(lines) != 1 or mention not in lines[0] or p.stdout:
                problems.append(f"{args}: status {p.returncode}, stderr {p.stderr!r}, stdout {p.stdout[:80]!r}")
    p = run(binary, "--help")
    if p.returncode != 0 or any(k not in p.stdout for k in ROWS):
        problems.append(f"--help: status {p.returncode}, rows missing from it")
    for pr in problems:
        print(f"check_dunestat: {pr}")
    if problems:
        return fail(f"{len(problems)} problem(s)")
    print(f"check_dunestat: bad input ok: {len(cases)} cases gave status 2 and one line")
    return 0


def main():
    checks = {"json": check_json, "svg": check_svg, "no-kvm": check_no_kvm, "bad-input": check_bad_input}
    if len(sys.argv) != 3 or sys.argv[2] not in checks:
        print(__doc__)
        return 2
    binary, check = os.path.abspath(sys.argv[1]), sys.argv[2]
    return checks[check](binary)


if __name__ == "__main__":
    sys.exit(main())
