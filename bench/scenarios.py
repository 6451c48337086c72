"""One benchmark measurement, run in a fresh interpreter by bench/run.py.

The same file runs under both SDKs (the official imerit-ango 1.4.10 and ours): it
imports ``imerit_ango`` from whichever virtualenv runs it. It prints one JSON line:
``{"seconds", "peak_rss_mb", "items", ...}``. Timing covers the measured work
only, not interpreter start-up or imports.

    python scenarios.py calls       --url U --key K --project P --n 2000
    python scenarios.py calls_threads --url U --key K --project P --n 2000 --threads 8
    python scenarios.py list_tasks  --url U --key K --project P --mode pages --limit 100
    python scenarios.py list_tasks  --url U --key K --project P --mode iter  --limit 1000
    python scenarios.py upload      --url U --key K --project P --files-dir D
    python scenarios.py export      --url U --key K --project P [--format json]
    python scenarios.py floor_calls  --url U --key K --project P --n 2000
    python scenarios.py floor_export --url U --key K --project P [--format json]

The ``floor_*`` scenarios use no SDK at all: the plain standard-library loop a
careful hand-written client would run (``http.client`` on one keep-alive connection
and ``json.loads``; for the export, one download into memory, ``zipfile`` inflate
and ``json.loads`` per row). They are the limit an SDK's overhead is measured from.
"""

import argparse
import json
import os
import resource
import sys
import threading
import time


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def make_sdk(args):
    from imerit_ango.sdk import SDK
    return SDK(args.key, host=args.url)


def calls(args):
    sdk = make_sdk(args)
    sdk.get_project(args.project)  # warm-up: opens the keep-alive connection
    start = time.perf_counter()
    for _ in range(args.n):
        reply = sdk.get_project(args.project)
    seconds = time.perf_counter() - start
    assert reply["data"]["project"]["_id"] == args.project, reply
    return {"seconds": seconds, "items": args.n}


def calls_threads(args):
    # One SDK per thread: the official SDK's shared requests.Session is not documented
    # as thread-safe, and the same code must run on both sides.
    per_thread = args.n // args.threads
    sdks = [make_sdk(args) for _ in range(args.threads)]
    for sdk in sdks:
        sdk.get_project(args.project)
    errors = []
    barrier = threading.Barrier(args.threads + 1)

    def work(sdk):
        barrier.wait()
        try:
            for _ in range(per_thread):
                sdk.get_project(args.project)
        except Exception as e:  # reported below; a failed run must not look fast
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(s,)) for s in sdks]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} threads failed: {errors[0]}")
    return {"seconds": seconds, "items": per_thread * args.threads}


def list_tasks(args):
    sdk = make_sdk(args)
    ids = set()
    count = 0
    start = time.perf_counter()
    if args.mode == "pages":
        # The page loop of the v1.3.14 documentation (get_tasks section): flip pages
        # until `total` tasks have been collected. The document's own text stops at
        # `while remaining_tasks`; this is the loop it sets up, with its page size.
        items_per_page = args.limit
        annotation_status = None
        tasks = []
        page = 1
        remaining_tasks = 1
        while remaining_tasks > 0:
            response = sdk.get_tasks(args.project, page=page, limit=items_per_page, status=annotation_status)
            tasks.extend(response["data"]["tasks"])
            remaining_tasks = response["data"]["total"] - len(tasks)
            page += 1
        seconds = time.perf_counter() - start
        count = len(tasks)
        ids = {t["_id"] for t in tasks}
    else:
        for task in sdk.iter_tasks(args.project, page_size=args.limit):
            ids.add(task["_id"])
            count += 1
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "items": count, "unique_ids": len(ids)}


def upload(args):
    import contextlib
    import io

    sdk = make_sdk(args)
    paths = sorted(os.path.join(args.files_dir, name) for name in os.listdir(args.files_dir))
    start = time.perf_counter()
    # The official SDK draws a tqdm bar on stderr; keep it out of the measurement output.
    with contextlib.redirect_stderr(io.StringIO()):
        reply = sdk.upload_files(args.project, paths)
    seconds = time.perf_counter() - start
    # Checked after the clock stops: the import reply counts every file, and the
    # project (fresh for each run) now holds exactly those assets.
    created = reply.get("data", {}).get("assets", {}).get("assetsCreated") if isinstance(reply, dict) else None
    total = sdk.get_assets(args.project, page=1, limit=1)["data"]["total"]
    ok = reply.get("status") == "success" and created == len(paths) == total
    return {"seconds": seconds, "items": len(paths), "reply_ok": bool(ok),
            "reply": None if ok else {"reply": reply, "assets_in_project": total}}


def export(args):
    from imerit_ango.models.enums import ExportFormats
    from imerit_ango.models.export_options import ExportOptions

    sdk = make_sdk(args)
    rows = 0
    start = time.perf_counter()
    # Every seeded task is in the Complete stage, the default export stage.
    if args.format == "json":
        # The JSON format: exportV3 returns the whole parsed document (a list of rows).
        document = sdk.exportV3(args.project, ExportOptions(stage=["Complete"], export_format=ExportFormats.JSON))
        count = len(document)
        iterator = document
    else:
        iterator, count = sdk.exportV3(args.project,
                                       ExportOptions(stage=["Complete"], export_format=ExportFormats.NDJSON))
    for row in iterator:
        if not isinstance(row, dict):
            raise TypeError(f"export row is {type(row).__name__}, expected dict")
        rows += 1
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "items": rows, "count": count}


def _floor_connection(url):
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)


def floor_calls(args):
    """N sequential GET /v2/project/<id> on one keep-alive http.client connection, each
    body decoded with json.loads: no SDK, the floor a per-call overhead is measured from."""
    import urllib.parse

    conn = _floor_connection(args.url)
    path = "/v2/project/" + urllib.parse.quote(args.project, safe="")
    headers = {"apikey": args.key, "Content-Type": "application/json", "Accept": "application/json"}

    def call():
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        return json.loads(body)

    call()  # warm-up: opens the connection
    start = time.perf_counter()
    for _ in range(args.n):
        reply = call()
    seconds = time.perf_counter() - start
    assert reply["data"]["project"]["_id"] == args.project, reply
    return {"seconds": seconds, "items": args.n}


def floor_export(args):
    """The export with the standard library only: request it, download the zip into
    memory, inflate its entry and json.loads every row (NDJSON) or the whole document
    (JSON). The limit for exportV3 + iterate, without an SDK's bookkeeping."""
    import io
    import urllib.parse
    import urllib.request
    import zipfile

    query = urllib.parse.urlencode({"project": args.project, "format": args.format,
                                    "stage": '["Complete"]'})
    start = time.perf_counter()
    conn = _floor_connection(args.url)
    conn.request("GET", "/v2/export?" + query, headers={"apikey": args.key})
    response = conn.getresponse()
    link = json.loads(response.read())["data"]["exportPath"]
    with urllib.request.urlopen(link, timeout=600) as resp:
        packed = resp.read()
    with zipfile.ZipFile(io.BytesIO(packed)) as archive:
        text = archive.read(archive.infolist()[0])
    del packed
    rows = 0
    if args.format == "json":
        for row in json.loads(text):
            if not isinstance(row, dict):
                raise TypeError(f"export row is {type(row).__name__}, expected dict")
            rows += 1
    else:
        for line in text.splitlines():
            if line.strip():
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise TypeError(f"export row is {type(row).__name__}, expected dict")
                rows += 1
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "items": rows}


SCENARIOS = {"calls": calls, "calls_threads": calls_threads, "list_tasks": list_tasks,
             "upload": upload, "export": export, "floor_calls": floor_calls, "floor_export": floor_export}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--mode", choices=["pages", "iter"], default="pages")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--files-dir")
    p.add_argument("--format", choices=["ndjson", "json"], default="ndjson")
    args = p.parse_args()
    result = SCENARIOS[args.scenario](args)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
