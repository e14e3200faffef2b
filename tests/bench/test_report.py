"""The benchmarks' report says on which processor each of its sections was measured."""

import json
from pathlib import Path

from bench import report

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"


def test_a_section_carried_over_names_its_processor():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["coding"] = {**results["coding"], "carried_over_from": "2026-01-02 03:04 UTC"}
    results["coding"]["cpu"] = "Processor X"
    md = report.markdown(results)
    assert "*(The next section is from the run of 2026-01-02 03:04 UTC, on Processor X.)*" in md
    assert f"| CPU | {results['machine']['cpu']} |" in md


def test_the_targets_table_says_which_run_each_figure_is_from():
    """The README's summary is the targets table alone: a figure carried over from an
    earlier run, perhaps on another processor, says so in its row."""
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    for part in ("coding", "test"):
        results[part] = {**results[part], "cpu": "Processor X"}
        results[part].pop("carried_over_from", None)
    results["coding"]["carried_over_from"] = "2026-01-02 03:04 UTC"
    rows = {
        line.split(" | ")[0].strip("| "): line
        for line in report.readme_summary(results).splitlines()
        if line.startswith("| ")
    }
    assert rows[""].endswith("| measured in |")
    coder = rows["bits-back coder: time per symbol, 200,000 over 25,000 symbols"]
    assert coder.endswith("| the run of 2026-01-02 03:04 UTC, Processor X |")
    assert rows["make test, fresh clone"].endswith("| this run |")


def test_every_section_of_the_committed_results_has_its_processor():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    parts = [p for p, v in results.items() if p != "machine" and isinstance(v, dict)]
    assert parts and all(results[p].get("cpu") for p in parts)


def test_the_chapter_times_written_for_the_appendix_say_where_they_were_measured(tmp_path):
    from _ext.parallel_execution import _record, _times_on_record, measured_on
    from bench.__main__ import _write_times

    path = tmp_path / "chapter_seconds.json"
    on = {"date": "2026-01-02 03:04 UTC", "cpu": "Processor X", "commit": "abc1234"}
    _write_times(path, {"chapters/a": 12.5}, {**on, "processes": 1, "build": "clean"})
    assert _times_on_record(path) == {"chapters/a": 12.5}
    assert measured_on(_record(path)["measured"]) == (
        "on 2026-01-02, at commit abc1234, on Processor X, one process"
    )
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # written whole, no leftovers


def test_the_committed_chapter_times_say_where_they_were_measured():
    from _ext.parallel_execution import _record

    for name in ("chapter_seconds.json", "chapter_warm_seconds.json"):
        measured = _record(RESULTS.parents[1] / "_ext" / name)["measured"]
        assert measured["date"] and measured["cpu"] and measured["commit"], name


def test_the_training_of_the_published_models_is_summed_and_held_to_its_budget(tmp_path):
    from bench.book import TARGETS, training_record

    folder = tmp_path / "_build" / "html" / "_models"
    assert training_record(tmp_path) == {"models": 0, "seconds": 0}  # no site built
    folder.mkdir(parents=True)
    manifest = {
        "vae-a.npz": {"sha256": "0", "bytes": 1, "seconds": 700.5},
        "vae-b.npz": {"sha256": "1", "bytes": 1, "seconds": 600.0},
        "bounds-a.npz": {"sha256": "2", "bytes": 1, "seconds": None},  # a stored result
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    record = training_record(tmp_path)
    assert record == {"models": 2, "seconds": 1300.5}

    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    book = results["book"]
    book["training"], book["targets"] = record, {**book["targets"], **TARGETS}
    book["meets_targets"] = {**book["meets_targets"], "training": False}
    row = next(line for line in report.markdown(results).splitlines() if "models the book" in line)
    assert "| ≤ 1200 s | 1300.5 s (2 models) | **no** |" in row
    del book["training"]  # results from before the row: no row
    assert "models the book" not in report.markdown(results)


def test_the_report_gives_each_run_its_pace():
    """The machine table shows this run's pace; a section carried over from a run whose pace
    is on record sets that run's reference epoch beside this run's."""
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    pace = {
        "start": {"vae_epoch": 0.2, "product_gflops": 130.0},
        "end": {"vae_epoch": 0.3, "product_gflops": 120.0},
    }
    results["machine"] = {**results["machine"], "pace": pace}
    earlier = {
        "start": {"vae_epoch": 0.1, "product_gflops": 131.0},
        "end": {"vae_epoch": 0.2, "product_gflops": 129.0},
    }
    results["coding"] = {
        **results["coding"],
        "carried_over_from": "2026-01-02 03:04 UTC",
        "cpu": "Processor X",
        "pace": earlier,
    }
    results["vlae"] = {**results["vlae"], "carried_over_from": "2026-01-01 00:00 UTC"}
    results["vlae"].pop("pace", None)
    md = report.markdown(results)
    assert (
        "| pace (bench/pace.py), start → end of the run | VAE epoch 0.200 s → 0.300 s; 1024² "
        "product 130 → 120 GFLOP/s |"
    ) in md
    assert (
        "*(The next section is from the run of 2026-01-02 03:04 UTC, on Processor X; its "
        "reference VAE epoch took 0.150 s, this run's 0.250 s.)*"
    ) in md
    # a run with no pace on record says only where it ran
    assert f"from the run of 2026-01-01 00:00 UTC, on {results['vlae']['cpu']}.)*" in md


def test_the_pace_is_one_epoch_of_the_reference_vae_and_a_product_rate():
    from bench import pace

    assert 0 < pace.vae_epoch_seconds(epochs=1) < 60
    assert pace.product_gflops(n=64, repeats=3) > 0


def test_the_report_says_what_the_fresh_clones_target_leaves_for_training():
    """The other phases as they took, the chapters' one-process work at the rate the
    execution phase did it: what is left of the target is the room for training."""
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    book, test = results["book"], results["test"]
    for part in (book, test):
        part.pop("carried_over_from", None)
    book["chapters"] = [{"chapter": "a", "seconds": 700.0}, {"chapter": "b", "seconds": 300.0}]
    book["training"] = {"models": 3, "seconds": 600.0}
    test["target"], test["exit"] = 900.0, 0
    test["phases"] = [
        {"phase": "install", "seconds": 100.0, "cores_busy": 0.5},
        {"phase": report.EXECUTION_PHASE, "seconds": 500.0, "cores_busy": 1.0},
        {"phase": "book and site tests", "seconds": 200.0, "cores_busy": 1.0},
    ]
    md = report.markdown(results)
    # 1,000 core-seconds in 500 s: 2 a second; 900 - 300 s leaves 1,200 core-seconds, of which
    # the chapters without training take 400; with no training, 300 s + 400 / 2
    assert "took 500.0 s for the 1,000.0 core-seconds of chapters" in md
    assert "2.00 core-seconds a second. The other phases took 300.0 s." in md
    assert "the 900 s target leaves 1,200 core-seconds for the chapters" in md
    assert "Without their training they take 400.0 (" in md
    assert "leaves 800 core-seconds for training; the book's models take 600.0." in md
    # at the training budget of 1,200 core-seconds: 500 s + 1,200 / 2
    book["targets"] = {**book["targets"], "training": 1200.0}
    md = report.markdown(results)
    assert (
        "With no training at all, make test would take about 500 s; with the 1,200 "
        "core-seconds the book's training may take, about 1,100 s."
    ) in md
    row = next(line for line in md.splitlines() if line.startswith("| make test, fresh clone |"))
    assert (
        "(exit 0); with no model trained about 500 s: the target leaves 800 core-seconds for "
        "training (the models take 600) |"
    ) in row

    # chapters that exceed the target's share without training: the excess, not a room of 0
    book["chapters"] = [{"chapter": "a", "seconds": 1500.0}, {"chapter": "b", "seconds": 500.0}]
    book["training"] = {"models": 3, "seconds": 500.0}
    test["phases"][1]["seconds"] = 1000.0  # 2,000 core-seconds at 2 a second again
    md = report.markdown(results)
    assert (
        "leaves 1,200 core-seconds for the chapters. Without their training they take 1,500.0" in md
    )
    assert (
        "the target leaves nothing for training, and the chapters without it exceed its share "
        "by 300 core-seconds; the book's models take 500.0."
    ) in md
    assert "leaves 0 core-seconds" not in md

    # measured in different runs, the two are not set side by side
    test["carried_over_from"] = "2026-01-01 00:00 UTC"
    md = report.markdown(results)
    assert "What the target leaves for training" not in md
    assert "with no model trained" not in md
