"""The appendix's build-times page, as built: the cold time of every chapter, in a table."""

import html
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2]
PAGE = BOOK / "_build" / "html" / "appendix" / "build_stats.html"


def cold_table() -> list[list[str]]:
    if not PAGE.is_file():
        pytest.fail(f"no page at {PAGE}: run `make book` first")
    text = PAGE.read_text(encoding="utf-8")
    tables = [t for t in re.findall(r"<table.*?</table>", text, re.S) if "cold time (s)" in t]
    assert len(tables) == 1, "the cold-times table is missing or repeated"
    rows = re.findall(r"<tr.*?</tr>", tables[0], re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[dh].*?</t[dh]>", r, re.S)
        ]
        for r in rows
    ]


def record(name: str) -> dict:
    path = BOOK / "_ext" / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def recorded(name: str) -> dict:
    return record(name).get("seconds", {})


def seconds(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_every_chapter_s_cold_time_is_in_a_table_longest_first():
    cold, warm = recorded("chapter_seconds.json"), recorded("chapter_warm_seconds.json")
    assert cold, "no cold times on record in _ext/chapter_seconds.json"
    split = set(cold) <= set(warm)
    header, *rows, total = cold_table()
    assert header == ["chapter", "cold time (s)"] + (
        ["with its results stored (s)"] if split else []
    ) + ["share of the cold sum"]
    assert [r[0] for r in rows] == sorted(cold, key=lambda c: -cold[c])
    for chapter, cold_cell, *rest in rows:
        assert seconds(cold_cell) == pytest.approx(cold[chapter], abs=0.5)
        if split:
            assert seconds(rest[0]) == pytest.approx(warm[chapter], abs=0.5)
    assert total[0] == "all chapters"
    assert seconds(total[1]) == pytest.approx(sum(cold.values()), abs=0.5)
    # the bound for two processes, and what the stored results cost, from the same numbers
    text = re.sub(r"\s+", " ", html.unescape(PAGE.read_text(encoding="utf-8")))
    measured = record("chapter_seconds.json")["measured"]
    assert f"The cold times were measured on {measured['date'][:10]}," in text
    assert f"at commit {measured['commit']}, on {measured['cpu']}, one process." in text
    bound = max(max(cold.values()), sum(cold.values()) / 2)
    assert f"2 processes: {bound:,.0f} s" in text
    if split:
        stored = sum(cold.values()) - sum(warm[c] for c in cold)
        assert f"the other {stored:,.0f} s" in text
