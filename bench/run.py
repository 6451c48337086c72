#!/usr/bin/env python3
"""Benchmarks our Python SDK against the official imerit-ango 1.4.10, on one local
ango-emulator, in the same run, and prints a Markdown table of ratios.

    python3 bench/run.py            # full run (about 5–6 minutes on 2 cores, plus the first build); writes bench/results.md
    python3 bench/run.py --quick    # smaller sizes, one repetition; a smoke test of the harness

Standard library only. It builds what it needs (release emulator, a release wheel of
our package in .venvs/bench-ours, imerit-ango==1.4.10 in .venvs/bench-official) and
runs every measurement in a fresh interpreter (bench/scenarios.py). See bench/README.md.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
VENVS = os.path.join(ROOT, ".venvs")
OURS_VENV = os.path.join(VENVS, "bench-ours")
OFFICIAL_VENV = os.path.join(VENVS, "bench-official")
OFFICIAL_VERSION = "1.4.10"
EMULATOR = os.path.join(ROOT, "target", "release", "ango-emulator")
SCENARIOS = os.path.join(BENCH, "scenarios.py")
MIB = 1024 * 1024


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------
def ensure_venv(venv, base_python):
    if not os.path.exists(venv_python(venv)):
        run([base_python, "-m", "venv", venv])


def installed_version(venv, dist):
    probe = f"import importlib.metadata as m; print(m.version({dist!r}))"
    r = subprocess.run([venv_python(venv), "-c", probe], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def build(args):
    run(["cargo", "build", "--release", "-p", "ango-emulator"], cwd=ROOT)

    ensure_venv(OFFICIAL_VENV, args.python)
    if installed_version(OFFICIAL_VENV, "imerit-ango") != OFFICIAL_VERSION:
        run([venv_python(OFFICIAL_VENV), "-m", "pip", "install", "-q", f"imerit-ango=={OFFICIAL_VERSION}"])

    # Ours: a release wheel, installed (not an editable dev build), rebuilt every run so
    # the numbers are for the code in the tree. Cargo makes an unchanged rebuild cheap.
    ensure_venv(OURS_VENV, args.python)
    if installed_version(OURS_VENV, "maturin") is None:
        run([venv_python(OURS_VENV), "-m", "pip", "install", "-q", "maturin>=1.7,<2"])
    with tempfile.TemporaryDirectory(prefix="ango-bench-wheel-") as out:
        # Run from python/ so maturin reads python/pyproject.toml (its [tool.maturin] section).
        run([os.path.join(OURS_VENV, "bin", "maturin"), "build", "--release", "--quiet",
             "-i", venv_python(OURS_VENV), "-o", out], cwd=os.path.join(ROOT, "python"))
        wheels = glob.glob(os.path.join(out, "*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one wheel from maturin, got {wheels}")
        run([venv_python(OURS_VENV), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", wheels[0]])


def check_venvs():
    for venv, what in ((OFFICIAL_VENV, "official"), (OURS_VENV, "ours")):
        r = subprocess.run([venv_python(venv), "-c", "import imerit_ango.sdk, imerit_ango; print(imerit_ango.__file__)"],
                           capture_output=True, text=True, cwd=tempfile.gettempdir())
        if r.returncode != 0:
            sys.exit(f"{what} venv {venv} cannot import imerit_ango (run without --no-build):\n{r.stderr}")
        if not r.stdout.strip().startswith(venv):
            sys.exit(f"{what} venv imports imerit_ango from {r.stdout.strip()}, not from the venv")
    r = subprocess.run([venv_python(OURS_VENV), "-c", "from imerit_ango.sdk import SDK; SDK.iter_tasks"],
                       capture_output=True, text=True, cwd=tempfile.gettempdir())
    if r.returncode != 0:
        sys.exit("the bench-ours venv holds a package without SDK.iter_tasks: is it ours?")


# ---------------------------------------------------------------------------------------
# Emulator
# ---------------------------------------------------------------------------------------
class Emulator:
    def __init__(self, workers):
        self.key = "bench-" + secrets.token_hex(8)
        self.proc = subprocess.Popen([EMULATOR, "--port", "0", "--api-key", self.key, "--workers", str(workers)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2:
            self.stop()
            sys.exit(f"ango-emulator did not print '<url> <key>' (got {line!r})")
        self.url = line[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def request(self, method, path, body=None, timeout=600):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"apikey": self.key, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.load(resp)

    def seed(self, name, tasks, objects_per_task=0, completed=False):
        reply = self.request("POST", "/__emulator/seed", {"name": name, "tasks": tasks,
                                                          "objectsPerTask": objects_per_task,
                                                          "completed": completed})
        return reply["data"]["projectId"]

    def set_latency(self, ms):
        reply = self.request("POST", "/__emulator/faults", {"latencyMs": ms, "failRate": 0, "dropRate": 0})
        if reply.get("data", {}).get("latencyMs") != ms:
            sys.exit(f"could not set the emulator latency: {reply}")

    def export_ndjson_size(self, project, fmt="ndjson"):
        """Uncompressed size of the project's export and the seconds the raw export
        round trip takes (request + download, no parsing): a cost every SDK pays."""
        query = urllib.parse.urlencode({"project": project, "format": fmt, "stage": '["Complete"]'})
        start = time.perf_counter()
        link = self.request("GET", "/v2/export?" + query)["data"]["exportPath"]
        with tempfile.NamedTemporaryFile(suffix=".zip") as f:
            with urllib.request.urlopen(link, timeout=600) as resp:
                shutil.copyfileobj(resp, f, 1 << 20)
            seconds = time.perf_counter() - start
            f.flush()
            with zipfile.ZipFile(f.name) as z:
                info = z.infolist()[0]
                return info.file_size, info.compress_size, seconds


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------
def measure(sdk, scenario, emu, project, extra, timeout):
    # The floor runs the standard-library loop (scenario "floor_<name>"); any venv's
    # interpreter does, and the official one has the same Python.
    venv = OURS_VENV if sdk == "ours" else OFFICIAL_VENV
    if sdk == "floor":
        scenario = "floor_" + scenario
    cmd = [venv_python(venv), SCENARIOS, scenario, "--url", emu.url, "--key", emu.key, "--project", project] + extra
    # A neutral working directory, so `imerit_ango` comes from the venv and not the tree.
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tempfile.gettempdir())
    if r.returncode != 0:
        raise RuntimeError(f"{sdk} {scenario} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


class Row:
    """One table row: the medians of both SDKs (and of the floor, when measured), plus
    the raw results (for the ranges and RSS columns)."""

    def __init__(self, scenario, latency, unit, official, ours, res, floor=None):
        self.scenario, self.latency, self.unit = scenario, latency, unit
        self.official, self.ours, self.res, self.floor = official, ours, res, floor

    @staticmethod
    def median(results, key):
        return statistics.median(r[key] for r in results)


def repeat(sdks_reps, scenario, emu, project_for, extra_for, timeout, check):
    """Runs each SDK's measurement the given number of times, interleaved (official,
    ours, official, ...) so slow drift on the machine hits both sides alike."""
    results = {sdk: [] for sdk in sdks_reps}
    for i in range(max(sdks_reps.values())):
        for sdk, reps in sdks_reps.items():
            if i < reps:
                res = measure(sdk, scenario, emu, project_for(sdk, i), extra_for(sdk), timeout)
                check(sdk, res)
                log(f"  {scenario} {sdk} #{i + 1}: {res['seconds']:.3f}s, peak RSS {res['peak_rss_mb']} MB")
                results[sdk].append(res)
    return results


def expect(field, value):
    def check(sdk, res):
        if res.get(field) != value:
            raise RuntimeError(f"{sdk}: expected {field}={value}, got {res}")
    return check


def bench(args, emu):
    rows = []
    sizes = args.sizes
    reps = args.reps
    files_dir = tempfile.mkdtemp(prefix="ango-bench-files-")
    try:
        for i in range(sizes["files"]):
            with open(os.path.join(files_dir, f"file_{i:04d}.bin"), "wb") as f:
                f.write(os.urandom(sizes["file_bytes"]))

        log("seeding projects")
        calls_project = emu.seed("bench calls", 10)
        list_project = emu.seed("bench list", sizes["list_tasks"])
        export_tasks = sizes["export_tasks"]
        export_project = emu.seed("bench export", export_tasks, sizes["export_objects"], completed=True)
        emu.set_latency(0)
        raw, packed, floor = emu.export_ndjson_size(export_project)
        json_bytes = emu.export_ndjson_size(export_project, "json")[0]
        export_info = {"tasks": export_tasks, "objects": sizes["export_objects"], "ndjson_bytes": raw,
                       "zip_bytes": packed, "raw_seconds": floor, "json_bytes": json_bytes}
        log(f"export project: {export_tasks} tasks x {sizes['export_objects']} objects, NDJSON {raw / MIB:.1f} MiB "
            f"({packed / MIB:.1f} MiB zipped); raw export round trip {floor:.2f}s")

        for latency in args.latencies:
            emu.set_latency(latency)
            slow = latency > 0
            # The slow official cases run fewer times when asked (--slow-reps).
            slow_reps = args.slow_reps if slow else reps

            if "calls" in args.scenarios:
                n = sizes["calls_slow"] if slow else sizes["calls"]
                res = repeat({"official": reps, "ours": reps, "floor": reps}, "calls", emu,
                             lambda s, i: calls_project, lambda s: ["--n", str(n)], args.timeout, expect("items", n))
                rows.append(Row(f"calls: {n} × get_project, sequential", latency, "ms/call",
                                *[Row.median(res[s], "seconds") * 1000 / n for s in ("official", "ours")],
                                res=res, floor=Row.median(res["floor"], "seconds") * 1000 / n))

            if "calls_threads" in args.scenarios:
                n = (sizes["calls_slow"] * 2 if slow else sizes["calls"]) // 8 * 8
                res = repeat({"official": reps, "ours": reps}, "calls_threads", emu, lambda s, i: calls_project,
                             lambda s: ["--n", str(n), "--threads", "8"], args.timeout, expect("items", n))
                rows.append(Row(f"calls_threads: {n} × get_project, 8 threads", latency, "ms/call (wall)",
                                *[Row.median(res[s], "seconds") * 1000 / n for s in ("official", "ours")],
                                res=res))

            if "list_tasks" in args.scenarios:
                total = sizes["list_tasks"]
                check = expect("unique_ids", total)
                for off_limit in (args.doc_limit, 1000):
                    res = repeat({"official": slow_reps if off_limit < 1000 else reps, "ours": reps}, "list_tasks",
                                 emu, lambda s, i: list_project,
                                 lambda s, lim=off_limit: (["--mode", "pages", "--limit", str(lim)] if s == "official"
                                                           else ["--mode", "iter", "--limit", "1000"]),
                                 args.timeout, check)
                    label = ("the documented page loop" if off_limit == args.doc_limit else "the page loop")
                    rows.append(Row(f"list_tasks: {total} tasks; official: {label}, limit={off_limit}; "
                                    f"ours: iter_tasks(page_size=1000)", latency, "s",
                                    *[Row.median(res[s], "seconds") for s in ("official", "ours")], res=res))

            if "upload" in args.scenarios:
                nfiles = sizes["files"]

                def fresh_project(sdk, i, latency=latency):
                    return emu.seed(f"bench upload {sdk} {latency}ms #{i}", 0)

                res = repeat({"official": slow_reps, "ours": reps}, "upload", emu, fresh_project,
                             lambda s: ["--files-dir", files_dir], args.timeout, expect("reply_ok", True))
                rows.append(Row(f"upload: {nfiles} files × {sizes['file_bytes'] // 1024} KiB, upload_files", latency,
                                "s", *[Row.median(res[s], "seconds") for s in ("official", "ours")], res=res))

            # The export's one /v2 call is all the added latency touches: measured once.
            for fmt_name in ("ndjson", "json"):
                scenario = "export" if fmt_name == "ndjson" else "export_json"
                if scenario not in args.scenarios or latency != args.latencies[0]:
                    continue
                res = repeat({"official": reps, "ours": reps, "floor": reps}, "export", emu,
                             lambda s, i: export_project, lambda s, f=fmt_name: ["--format", f],
                             args.timeout, expect("items", export_tasks))
                size = raw if fmt_name == "ndjson" else export_info["json_bytes"]
                rows.append(Row(f"{scenario}: {fmt_name.upper()} {size / MIB:.0f} MiB ({export_tasks} rows × "
                                f"{sizes['export_objects']} objects), exportV3 + read every row as a dict",
                                latency, "s", *[Row.median(res[s], "seconds") for s in ("official", "ours")],
                                res=res, floor=Row.median(res["floor"], "seconds")))
        if "import" in args.scenarios:
            rows.append(import_row(sizes["imports"]))
    finally:
        shutil.rmtree(files_dir, ignore_errors=True)
    return rows, export_info


IMPORT_PROBE = ("import resource, time; t = time.perf_counter(); import imerit_ango.sdk; "
                "s = time.perf_counter() - t; import json; "
                "print(json.dumps({'seconds': s, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")


def import_row(n):
    """`import imerit_ango.sdk` in a fresh interpreter (nothing else imported before it
    but what the interpreter itself loads), n times per SDK, alternating."""
    res = {"official": [], "ours": []}
    for _ in range(n):
        for sdk, venv in (("official", OFFICIAL_VENV), ("ours", OURS_VENV)):
            r = subprocess.run([venv_python(venv), "-c", IMPORT_PROBE], capture_output=True, text=True,
                               cwd=tempfile.gettempdir(), check=True)
            res[sdk].append(json.loads(r.stdout))
    for sdk in res:
        log(f"  import {sdk}: median {Row.median(res[sdk], 'seconds') * 1000:.1f} ms")
    return Row(f"import: `import imerit_ango.sdk`, fresh interpreter (median of {n})", 0, "s",
               *[Row.median(res[s], "seconds") for s in ("official", "ours")], res=res)


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
def fmt(value, unit):
    if unit == "s":
        return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"
    return f"{value:.3f} {unit}" if value < 1 else f"{value:.2f} {unit}"


def cell(row, sdk):
    """The median, plus the range when there were several runs (the machine may be shared)."""
    value = {"official": row.official, "ours": row.ours, "floor": row.floor}[sdk]
    runs = row.res.get(sdk, [])
    text = fmt(value, row.unit)
    if len(runs) > 1:
        scale = value / statistics.median(r["seconds"] for r in runs)
        lo, hi = (f(r["seconds"] for r in runs) * scale for f in (min, max))
        short = (lambda v: fmt(v, row.unit).split()[0] + (" ms" if row.unit == "s" and v < 0.1 else ""))
        text += f" ({short(lo)}–{short(hi)})"
    return text


def ratio(official, ours):
    r = official / ours if ours > 0 else float("inf")
    return f"**{r:.1f}× faster**" if r >= 1.05 else (f"{r:.2f}× (same)" if r >= 0.95 else f"{r:.2f}× (**slower**)")


def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass

    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"

    # The wheel is built from the working tree, which may differ from HEAD.
    changed = out(["git", "status", "--porcelain", "--", "crates/ango-core", "bindings/python", "python"])
    dirty = " + uncommitted changes" if changed else ""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    py = out([venv_python(OURS_VENV), "-c", "import platform; print(platform.python_version())"])
    return {"cpus": os.cpu_count(), "cpu": cpu or platform.processor() or "?", "os": platform.platform(),
            "python": py, "load": f"{load:.2f}", "rustc": out(["rustc", "--version"]), "commit": out(["git", "rev-parse", "--short", "HEAD"]) + dirty,
            "official": installed_version(OFFICIAL_VENV, "imerit-ango"),
            "ours": installed_version(OURS_VENV, "imerit-ango")}


def report(rows, export_info, args, started, info):
    lines = [
        "| Scenario | Latency | Official 1.4.10 | Ours | Ratio (official / ours) | Floor (stdlib only) | Ours / floor "
        "| Peak RSS official | Peak RSS ours |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rss = [f"{Row.median(r.res[s], 'peak_rss_mb'):.0f} MB" if r.res.get(s) else "" for s in ("official", "ours")]
        floor = cell(r, "floor") if r.floor is not None else "—"
        distance = f"{r.ours / r.floor:.2f}×" if r.floor else "—"
        lines.append(f"| {r.scenario} | {r.latency} ms | {cell(r, 'official')} | {cell(r, 'ours')} | "
                     f"{ratio(r.official, r.ours)} | {floor} | {distance} | {rss[0]} | {rss[1]} |")
    reps_note = (f"median of {args.reps} runs per SDK and case"
                 + (f" ({args.slow_reps} for the official SDK's documented page loop and upload at added latency)"
                    if args.slow_reps != args.reps else ""))
    lines += [
        "",
        f"- Command: `python3 bench/run.py{' ' + ' '.join(args.argv) if args.argv else ''}` "
        f"({reps_note}; total {time.time() - started:.0f} s)",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['os']}, Python {info['python']}, {info['rustc']}; "
        f"load average (1 min) {args.load_before} before the measurements, {info['load']} after "
        f"(other work on the machine shows up as spread in the (min–max) ranges)",
        f"- SDKs: official imerit-ango {info['official']} (pip); ours {info['ours']} (release wheel, commit "
        f"{info['commit']}); server: target/release/ango-emulator on 127.0.0.1, latency added per /v2 request",
        f"- Floor: the same work with the standard library only, no SDK (bench/scenarios.py `floor_*`): "
        f"`http.client` on one keep-alive connection + `json.loads` per call; for the export, the download into "
        f"memory, `zipfile` inflate and `json.loads` per row (or of the whole JSON document). "
        f"Ours / floor is the distance to that limit (below 1 means faster than it)",
        f"- Export project: {export_info['tasks']} completed tasks × {export_info['objects']} bounding boxes; NDJSON "
        f"{export_info['ndjson_bytes'] / MIB:.1f} MiB ({export_info['ndjson_bytes']} bytes), zip "
        f"{export_info['zip_bytes'] / MIB:.1f} MiB; the emulator builds the zip on each export call "
        f"(raw request + download without parsing: {export_info['raw_seconds']:.2f} s at 0 ms), "
        f"which both SDKs pay",
        f"- Peak RSS is the scenario process's `ru_maxrss` (interpreter and imports included). In list_tasks "
        f"the official loop keeps every task (as the documentation's loop does) while ours streams ids into a set, "
        f"so its RSS column compares the two usage patterns, not just the SDKs",
        f"- Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
    ]
    return "\n".join(lines) + "\n"


QUICK = {"calls": 300, "calls_slow": 40, "list_tasks": 5000, "files": 100, "file_bytes": 4096,
         "export_tasks": 2000, "export_objects": 20, "imports": 5}
FULL = {"calls": 1000, "calls_slow": 100, "list_tasks": 20000, "files": 500, "file_bytes": 4096,
        "export_tasks": 20000, "export_objects": 20, "imports": 15}
ALL_SCENARIOS = ["calls", "calls_threads", "list_tasks", "upload", "export", "export_json", "import"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes and one repetition (a smoke test)")
    p.add_argument("--no-build", action="store_true", help="reuse the emulator binary and venvs as they are")
    p.add_argument("--reps", type=int, help="repetitions per SDK and case (default 3, 1 with --quick)")
    p.add_argument("--slow-reps", type=int,
                   help="repetitions of the slowest official cases at added latency (default: --reps)")
    p.add_argument("--latencies", default="0,30", help="comma-separated added latencies in ms (default 0,30)")
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS), help="comma-separated subset of " +
                   ",".join(ALL_SCENARIOS))
    p.add_argument("--doc-limit", type=int, default=100,
                   help="page size of the documented get_tasks loop (its items_per_page; default 100)")
    p.add_argument("--output", help="write the table here too (default: bench/results.md and the results "
                                    "section of bench/README.md; nothing with --quick)")
    p.add_argument("--python", default=sys.executable, help="interpreter used to create the venvs")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed per measurement")
    args = p.parse_args()
    args.argv = sys.argv[1:]
    args.sizes = QUICK if args.quick else FULL
    args.reps = args.reps or (1 if args.quick else 3)
    args.slow_reps = args.slow_reps or args.reps
    args.latencies = [int(x) for x in args.latencies.split(",") if x.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(ALL_SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {sorted(unknown)}")
    output = args.output or (None if args.quick else os.path.join(BENCH, "results.md"))

    started = time.time()
    if not args.no_build:
        build(args)
    check_venvs()
    if not os.path.exists(EMULATOR):
        sys.exit(f"{EMULATOR} is missing (run without --no-build)")

    args.load_before = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"
    emu = Emulator(workers=16)
    try:
        rows, export_info = bench(args, emu)
    finally:
        emu.stop()
    table = report(rows, export_info, args, started, machine_info())
    print(table)
    if output:
        with open(output, "w") as f:
            f.write(f"# Benchmark results\n\nProduced by `bench/run.py` (see bench/README.md).\n\n{table}")
        log(f"wrote {os.path.relpath(output, ROOT)}")
    if not args.quick and not args.output:
        update_readme(table)


def update_readme(table):
    """Replaces the results block of bench/README.md with this run's table."""
    path = os.path.join(BENCH, "README.md")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    with open(path) as f:
        text = f.read()
    if start not in text or end not in text:
        log("bench/README.md has no results markers; not updated")
        return
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(f"{head}{start}\n{table}{end}{tail}")
    log("updated the results in bench/README.md")


if __name__ == "__main__":
    main()
