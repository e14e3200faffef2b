"""``python -m bench``: run the benchmarks and write bench/results.md and bench/results.json.

Parts: ``training`` (speed and quality against PyTorch), ``quality`` (more untimed seeds
for the quality comparison), ``vlae`` (the autoregressive decoders' training speed against
PyTorch), ``coding`` (the bits-back coder's speed), ``book`` (build times), ``widgets``
(latency and frame sizes; measured on the book's clean build, so it needs ``book``) and
``test`` (``make test`` in a fresh clone of ``HEAD``) and ``loaded_test`` (the same while
``--busy`` other processes keep cores busy). ``--skip`` leaves parts out; their
last results are then carried over from the existing results.json, marked with the date
they were taken and the pace of their run (:mod:`bench.pace`, measured at the start and the
end of every run), so that a figure from another day can be read against this run's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import book, machine, quality, report, widget_latency

HERE = Path(__file__).resolve().parent
PARTS = ("training", "quality", "vlae", "coding", "book", "widgets", "test", "loaded_test")


def run_part(module: str, threads: int, *args) -> dict:
    """``python -m bench.<module> ... --out file.json`` in a subprocess whose thread counts
    are fixed before numpy is imported; its results."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{module}.json"
        cmd = [sys.executable, "-m", f"bench.{module}", *map(str, args), "--out", str(out)]
        subprocess.run(cmd, cwd=machine.ROOT, env=machine.thread_env(threads), check=True)
        return json.loads(out.read_text())


def run_training(threads: int, epochs: int, runs: int) -> dict:
    """The training benchmark (speed and quality against PyTorch)."""
    return run_part("training", threads, "--threads", threads, "--epochs", epochs, "--runs", runs)


def run_quality(threads: int, epochs: int, first_seed: int, runs: int) -> dict:
    """More independent runs (``python -m bench.quality``), like training."""
    args = ("--threads", threads, "--epochs", epochs, "--first-seed", first_seed)
    return run_part("quality", threads, *args, "--runs", runs)


def run_vlae(epochs: int) -> dict:
    """The VLAE decoders against PyTorch (``python -m bench.vlae``), one thread each."""
    return run_part("vlae", 1, "--epochs", epochs)


def run_coding(images: int) -> dict:
    """The bits-back coder's speed (``python -m bench.coding``), one thread."""
    return run_part("coding", 1, "--images", images)


def run_pace() -> dict:
    """The machine's pace now (``python -m bench.pace``), one thread."""
    return run_part("pace", 1, "--epochs", 5)


def merge_quality(results: dict) -> None:
    """Each shape's quality summary over its timed runs and the quality part's runs."""
    more = results.get("quality") or {}
    for shape in (results.get("training") or {}).get("shapes", []):
        extra = []
        if more.get("epochs") == shape["epochs_per_run"]:
            extra = more.get("shapes", {}).get(shape["shape"], [])
        shape["quality"] = quality.summarize(shape["records"], extra)
        if extra:
            shape["quality"]["more_runs_date"] = more.get("date")


def _write_times(path: Path, times: dict, measured: dict) -> None:
    """{chapter: seconds} with where and when they were measured, for the appendix."""
    record = {"measured": measured, "seconds": times}
    report.write_atomically(path, json.dumps(record, indent=1, sort_keys=True) + "\n")


def run_book(with_widgets: bool, on: dict) -> tuple[dict, dict | None]:
    """The book's part; ``on`` is this run's machine (:func:`machine.describe`)."""
    widgets: dict = {}

    def after_build(copy: Path, env: dict) -> None:
        widgets.update(widget_latency.measure(copy, env))

    result = book.measure(
        keep=HERE / "build.log", after_build=after_build if with_widgets else None
    )
    if with_widgets and not widgets:
        widgets["error"] = "not measured: the book's build failed (see the section above)."
    if result.get("chapters"):  # the build executes the longest chapters first from these
        cold = {c["chapter"]: round(c["seconds"], 1) for c in result["chapters"]}
        measured = {key: on[key] for key in ("date", "cpu", "commit")}
        training = result.get("training") or {}
        _write_times(
            machine.ROOT / "_ext" / "chapter_seconds.json",
            cold,
            {
                **measured,
                "processes": 1,
                "build": "clean",
                "training_seconds": round(training.get("seconds", 0.0), 1),
                "trained_models": training.get("models", 0),
            },
        )
        # Every chapter again, with nothing trained or computed anew: the appendix's warm
        # column. From any other run, none: never warm times beside another run's cold ones.
        library_edit = result.get("library_edit") or {}
        warm = {}
        if library_edit.get("executed") and not library_edit.get("models_trained"):
            warm = {c: round(s, 1) for c, s in library_edit["executed"].items()}
        _write_times(
            machine.ROOT / "_ext" / "chapter_warm_seconds.json",
            warm,
            {**measured, "processes": result.get("jobs"), "build": "after a library edit"},
        )
    return result, (widgets if with_widgets else None)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both libraries")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per training run")
    parser.add_argument("--runs", type=int, default=10, help="training runs (seeds) per model")
    parser.add_argument(
        "--quality-runs",
        type=int,
        default=20,
        help="untimed runs (seeds) per model added to the quality comparison",
    )
    parser.add_argument(
        "--busy", type=int, default=1, help="busy processes beside the loaded make test"
    )
    parser.add_argument("--skip", default="", help=f"comma-separated parts of {PARTS} to skip")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the results")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: write results.md and the README's summary from results.json",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        results = json.loads((args.out / "results.json").read_text())
        merge_quality(results)
        md, _ = report.write(results, args.out)
        _summarize_in_readme(results)
        print(f"wrote {md} and the README's summary")
        return
    skip = {p for p in args.skip.split(",") if p}
    if skip - set(PARTS):
        parser.error(f"--skip takes parts of {PARTS}; got {sorted(skip - set(PARTS))}")

    previous = {}
    if (args.out / "results.json").exists():
        previous = json.loads((args.out / "results.json").read_text())
    results = {"machine": machine.describe()}
    date = results["machine"]["date"]
    print("pace: the reference work, before ...", flush=True)
    pace = {"start": run_pace()}

    if "training" not in skip:
        print(f"training: {args.runs} runs x {args.epochs} epochs per model ...", flush=True)
        start = time.perf_counter()
        results["training"] = run_training(args.threads, args.epochs, args.runs)
        print(f"training: done in {time.perf_counter() - start:.0f} s", flush=True)
    if "quality" not in skip:
        print(f"quality: {args.quality_runs} more runs x {args.epochs} epochs ...", flush=True)
        start = time.perf_counter()
        results["quality"] = run_quality(args.threads, args.epochs, args.runs, args.quality_runs)
        print(f"quality: done in {time.perf_counter() - start:.0f} s", flush=True)
    if "vlae" not in skip:
        print("vlae: the autoregressive decoders against PyTorch ...", flush=True)
        results["vlae"] = run_vlae(epochs=6)
    if "coding" not in skip:
        print("coding: the bits-back coder's speed ...", flush=True)
        results["coding"] = run_coding(images=200)
    if "book" not in skip:
        print("book: clean build in a temporary copy, then a rebuild ...", flush=True)
        results["book"], widgets = run_book("widgets" not in skip, results["machine"])
        if widgets is not None:
            results["widgets"] = widgets
    elif "widgets" not in skip:
        parser.error("the widget benchmark runs on the book's clean build: do not skip book")
    if "test" not in skip:
        print("test: make test in a fresh clone of HEAD ...", flush=True)
        results["test"] = book.measure_fresh_test(keep=HERE / "test.log")
    if "loaded_test" not in skip:
        print(f"loaded_test: make test beside {args.busy} busy processes ...", flush=True)
        keep = HERE / "test-loaded.log"
        results["loaded_test"] = book.measure_fresh_test(keep=keep, busy=args.busy)
    print("pace: the reference work, after ...", flush=True)
    pace["end"] = run_pace()
    results["machine"]["pace"] = pace
    for part in PARTS:
        if part not in results and previous.get(part):
            carried = dict(previous[part])
            carried.setdefault(
                "carried_over_from", carried.get("date", previous["machine"]["date"])
            )
            carried.setdefault("cpu", previous["machine"]["cpu"])
            results[part] = carried
        elif part in results:
            # each part keeps the processor it ran on, and the pace of its run: the runs may
            # be on different machines, or on the same one at another speed
            results[part]["date"], results[part]["cpu"] = date, results["machine"]["cpu"]
            results[part]["pace"] = pace

    merge_quality(results)
    md, js = report.write(results, args.out)
    _summarize_in_readme(results)
    print(f"wrote {md}, {js} and the README's summary")
    failed = [p for p in PARTS if p not in skip and (results.get(p) or {}).get("error")]
    failed += [p for p in ("test", "loaded_test") if p not in skip and results[p].get("exit")]
    if failed:  # a part that could not run is a failure, not a quiet gap in the report
        sys.exit(f"make bench: these parts could not run: {', '.join(failed)} (see {md})")


def _summarize_in_readme(results: dict) -> None:
    readme = machine.ROOT / "README.md"
    if not report.update_readme(results, readme):
        print(f"note: {readme} has no bench-summary markers; its summary was not written")


if __name__ == "__main__":
    main()
