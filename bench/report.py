"""The bench's results: one row per figure, its targets and whether they are met, the table (rich) and
the JSON. Pure: rows in, a table or a dict out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from rich.table import Table

MEASURED = "measured"
INCOMPLETE = "incomplete"      # measured, but not every item finished before the deadline
FAILED = "failed"
NOT_BUILT = "not built yet"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Threshold:
    """A target on one figure of a row: at least ``limit``, or under it."""

    figure: str      # "value", "ratio", or a key of the row's figures
    limit: float
    at_least: bool
    label: str       # as the table shows it, e.g. "≥ 200/s"
    short: str = ""  # in the verdict, e.g. "rate" (the label when empty)

    def met(self, figures: dict[str, float | None]) -> bool | None:
        """Whether the figure meets the target; None when the figure was not measured."""
        value = figures.get(self.figure)
        if value is None:
            return None
        return value >= self.limit if self.at_least else value < self.limit

    def as_dict(self, figures: dict[str, float | None]) -> dict[str, Any]:
        """The target and its verdict, for the JSON."""
        return {"label": self.label, "figure": self.figure, "limit": self.limit, "at_least": self.at_least,
                "met": self.met(figures)}


@dataclass
class Row:
    """One line of the table: a figure, its ratio to the bare insert actor (a), its targets."""

    key: str
    title: str
    unit: str
    value: float | None = None
    ratio: float | None = None
    figures: dict[str, float | None] = field(default_factory=dict)   # shown under the value (p50, p99, ...)
    thresholds: tuple[Threshold, ...] = ()
    status: str = MEASURED
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)            # the JSON's extra facts
    others_cpu_pct: float | None = None  # CPU that processes not of this run took meanwhile

    def all_figures(self) -> dict[str, float | None]:
        """``value``, ``ratio`` and the named figures, as the thresholds look them up."""
        return {"value": self.value, "ratio": self.ratio, **self.figures}

    @property
    def met(self) -> bool | None:
        """True when every target is met, False when one is missed, None without targets or figures."""
        verdicts = [t.met(self.all_figures()) for t in self.thresholds]
        if not verdicts or self.status not in (MEASURED, INCOMPLETE):
            return None
        if any(v is False for v in verdicts):
            return False
        return None if any(v is None for v in verdicts) else True

    def verdict(self) -> str:
        """"met", "missed: <the targets missed>", or "" when there is nothing to judge."""
        if self.met is None:
            return "" if not self.thresholds or self.status == NOT_BUILT else "not measured"
        if self.met:
            return "met"
        missed = [t.short or t.label for t in self.thresholds if t.met(self.all_figures()) is False]
        return "missed: " + ", ".join(missed)

    def as_dict(self) -> dict[str, Any]:
        """The row for the JSON."""
        figures = self.all_figures()
        return {"key": self.key, "title": self.title, "status": self.status, "value": rounded(self.value),
                "unit": self.unit, "ratio_to_raw_insert": rounded(self.ratio, 4),
                "figures": {k: rounded(v) for k, v in self.figures.items()},
                "targets": [t.as_dict(figures) for t in self.thresholds], "met": self.met, "note": self.note,
                "others_cpu_pct": self.others_cpu_pct, "details": self.details}


def rounded(value: float | None, digits: int = 2) -> float | None:
    """A figure rounded for the JSON (None stays None)."""
    return None if value is None else round(value, digits)


def number(value: float | None) -> str:
    """A figure as the table shows it: thousands separated, fewer decimals the larger it is."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


FIGURE_LABELS = {"p50_ms": "p50", "p99_ms": "p99", "p50_sent_ms": "p50 delivered→sent",
                 "p99_sent_ms": "p99 delivered→sent", "p99_liquidated_ms": "p99 delivered→liquidated",
                 "seconds": "took", "from_worker_start_per_s": "from worker start", "accept_s": "accept",
                 "accept_per_100k_s": "accept per 100k rows", "split_s": "split", "execute_s": "execution",
                 "end_to_end_s": "end to end", "web_rss_mib": "web peak RSS", "worker_rss_mib": "worker peak RSS",
                 "rss_growth_pct": "RSS growth", "compile_only_ms": "compiling alone (holidays loaded)",
                 "import_ms": "import (holidays)", "faster_than_rfc_x": "faster than the RFC's 10 ms service",
                 "dates_of_mean_us": "dates_of mean (the step's call)", "lookup_s": "lookup step (split's end → plan)",
                 "lookup_work_s": "of it the pages' work", "work_per_row_us": "pages' work per row",
                 "calendar_share_pct": "of the work the calendar", "held_s": "202 → due rows paid, rest held"}
UNITS = (("_per_s", "/s"), ("_ms", " ms"), ("_us", " µs"), ("_s", " s"), ("_mib", " MiB"), ("_pct", " %"),
         ("_x", "×"))  # the first that ends it


def figure_text(name: str, value: float | None) -> str:
    """One named figure under the value, e.g. "p99 48 ms" (a name without a label: its words, its unit
    suffix apart: "SPEI_first_ms" is "SPEI first")."""
    suffix, unit = next(((suffix, unit) for suffix, unit in UNITS if name.endswith(suffix)), ("", ""))
    label = FIGURE_LABELS.get(name, name[:len(name) - len(suffix)].replace("_", " "))
    if name == "seconds":
        return f"{label} {number(value)} s"
    if value is None:
        unit = ""
    return f"{label} {number(value)}{unit}"


def result_text(row: Row) -> str:
    """The value with its unit, and its named figures a line each."""
    if row.status == NOT_BUILT:
        return NOT_BUILT
    head = f"{number(row.value)} {row.unit}" if row.value is not None else row.status
    if row.status == INCOMPLETE:
        head += " (incomplete)"
    elif row.status == FAILED and row.value is not None:
        head += " (failed)"
    return "\n".join([head, *(figure_text(k, v) for k, v in row.figures.items())])


def ratio_text(ratio: float | None) -> str:
    """The ratio to (a) as a percentage."""
    return "—" if ratio is None else f"{ratio * 100:,.1f} %"


def table(rows: Sequence[Row], title: str) -> Table:
    """The rich table of a run: each figure, its ratio to (a), its targets and whether they are met."""
    t = Table(title=title, show_lines=True)
    for column, justify in (("measure", "left"), ("result", "right"), ("vs (a)", "right"), ("target", "left"),
                            ("verdict", "left")):
        t.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        t.add_row(title_text(row), result_text(row), ratio_text(row.ratio), "\n".join(x.label for x in row.thresholds),
                  verdict_markup(row.verdict()))
    return t


DISTURBED_PCT = 10.0


def title_text(row: Row) -> str:
    """The measure's title, its note dimmed, and a warning when other processes took CPU meanwhile."""
    lines = [row.title] + ([f"[dim]{row.note}[/dim]"] if row.note else [])
    if row.others_cpu_pct is not None and row.others_cpu_pct >= DISTURBED_PCT:
        lines.append(f"[yellow]disturbed: others took {row.others_cpu_pct:.0f} % of the CPUs[/yellow]")
    return "\n".join(lines)


def verdict_markup(verdict: str) -> str:
    """Green when met, red when missed."""
    if verdict == "met":
        return "[green]met[/green]"
    if verdict.startswith("missed"):
        return f"[red]{verdict}[/red]"
    return verdict


def results_json(run: dict[str, Any], rows: Sequence[Row]) -> dict[str, Any]:
    """The JSON document of a run: what ran where (``run``), then every row."""
    return {"schema": SCHEMA_VERSION, **run, "results": [row.as_dict() for row in rows]}
