"""``dispersa bench``'s pure parts: percentiles, rates and ratios, targets and verdicts, the table and the
JSON's shape, the profile's classification, the load generator's requests, the dates scenario's figures
and checks. No timing here: timings
belong to the bench itself."""
from __future__ import annotations

import asyncio
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bench import config, dates, ledger, loadgen, machine, profiling, report, stats
from bench.cli import cli
from bench.config import BenchConfig
from bench.report import Row, Threshold

# --- percentiles, rates, ratios --------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 4.0
    assert stats.percentile(values, 50) == 2.5
    assert stats.percentile(values, 99) == pytest.approx(3.97)


def test_percentile_of_unsorted_values_single_value_and_nothing() -> None:
    assert stats.percentile([5.0, 1.0, 3.0], 50) == 3.0
    assert stats.percentile([7.0], 99) == 7.0
    assert stats.percentile([], 50) is None


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_outside_0_to_100_is_refused(q: float) -> None:
    with pytest.raises(ValueError):
        stats.percentile([1.0], q)


def test_p99_of_a_hundred_values_is_near_the_top() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 99) == pytest.approx(99.01)
    assert stats.percentile(values, 50) == pytest.approx(50.5)


def test_rates_and_ratios_refuse_what_cannot_be_divided() -> None:
    assert stats.rate(10, 2.0) == 5.0
    assert stats.rate(10, 0.0) is None
    assert stats.ratio(50.0, 200.0) == 0.25
    assert stats.ratio(None, 200.0) is None
    assert stats.ratio(50.0, None) is None
    assert stats.ratio(50.0, 0.0) is None


def test_steady_rate_counts_intervals_between_first_and_last() -> None:
    assert stats.steady_rate(10.0, 12.0, 101) == 50.0  # 100 intervals over 2 s
    assert stats.steady_rate(10.0, 10.0, 1) is None
    assert stats.steady_rate(10.0, 10.0, 5) is None    # no time between them


def test_middle_rate_leaves_out_the_warm_up_and_the_tail() -> None:
    warm_up = [0.0, 5.0]                             # two slow first items
    steady = [10.0 + i * 0.01 for i in range(97)]    # 100 per second
    tail = [30.0]
    assert stats.middle_rate(warm_up + steady + tail) == pytest.approx(100.0)
    assert stats.middle_rate([1.0, 2.0]) is None     # too few to have a middle


def test_per_unit_scales_to_the_unit() -> None:
    assert stats.per_unit(2.0, 50_000, 100_000) == 4.0
    assert stats.per_unit(2.0, 0, 100_000) is None


def test_latency_summary() -> None:
    summary = stats.latency([10.0, 20.0, 30.0, 40.0])
    assert (summary.count, summary.p50_ms, summary.max_ms, summary.mean_ms) == (4, 25.0, 40.0, 25.0)
    assert stats.latency([]).p99_ms is None
    assert set(summary.as_dict()) == {"count", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"}


# --- targets and verdicts --------------------------------------------------------------------------

RATE = Threshold("value", 200, True, "≥ 200/s", "rate")
P99 = Threshold("p99_ms", 500, False, "p99 < 500 ms", "p99")


def payout_row(value: float | None, p99: float | None) -> Row:
    return Row("payouts", "2. payouts", "/s", value, 0.05, figures={"p99_ms": p99}, thresholds=(RATE, P99))


def test_a_threshold_is_at_least_or_under_its_limit() -> None:
    assert RATE.met({"value": 200}) is True
    assert RATE.met({"value": 199.9}) is False
    assert P99.met({"p99_ms": 499}) is True
    assert P99.met({"p99_ms": 500}) is False
    assert P99.met({}) is None


def test_row_met_only_when_every_target_is() -> None:
    assert payout_row(250, 100).met is True
    assert payout_row(250, 100).verdict() == "met"
    assert payout_row(250, 900).met is False
    assert payout_row(150, 900).verdict() == "missed: rate, p99"
    assert payout_row(None, None).met is None
    assert payout_row(None, None).verdict() == "not measured"


def test_a_missed_target_is_missed_even_when_another_figure_is_missing() -> None:
    assert payout_row(150, None).met is False


def test_contributions_target_is_half_of_the_raw_insert_rate() -> None:
    from bench.contributions import TARGET

    assert TARGET.met({"ratio": 0.5}) is True
    assert TARGET.met({"ratio": 0.49}) is False


def test_rows_without_targets_or_not_built_have_no_verdict() -> None:
    assert Row("raw_insert", "(a)", "msg/s", 3000.0, 1.0).verdict() == ""
    placeholder = Row("bulk", "5. bulk", "", status=report.NOT_BUILT)
    assert placeholder.met is None and placeholder.verdict() == ""
    assert report.result_text(placeholder) == "not built yet"


def test_failed_row_is_not_judged() -> None:
    row = Row("webhook", "3. webhook", "req/s", status=report.FAILED, thresholds=(RATE,))
    assert row.met is None


# --- the table and the JSON ------------------------------------------------------------------------


def rendered(rows: list[Row]) -> str:
    out = StringIO()
    Console(file=out, width=200, force_terminal=False, color_system=None).print(report.table(rows, "bench"))
    return out.getvalue()


def test_table_shows_each_figure_its_ratio_target_and_verdict() -> None:
    rows = [Row("raw_insert", "(a) bare actor", "msg/s", 3007.0, 1.0),
            payout_row(17.6, 6320.0),
            Row("bulk", "5. bulk payouts", "", status=report.NOT_BUILT)]
    text = rendered(rows)
    for expected in ("measure", "vs (a)", "target", "verdict", "3,007 msg/s", "100.0 %", "17.6 /s", "5.0 %",
                     "p99 6,320 ms", "≥ 200/s", "missed: rate, p99", "not built yet"):
        assert expected in text, expected


def test_table_warns_when_other_processes_took_the_cpus() -> None:
    row = payout_row(250, 100)
    row.others_cpu_pct = 35.0
    assert "disturbed: others took 35 % of the CPUs" in rendered([row])
    row.others_cpu_pct = 2.0
    assert "disturbed" not in rendered([row])


def test_a_figure_without_a_label_is_its_name_less_its_unit() -> None:
    assert report.figure_text("SPEI_first_ms", 52.4) == "SPEI first 52.4 ms"
    assert report.figure_text("delivery_p99_us", 1.7) == "delivery p99 1.70 µs"
    assert report.figure_text("p99_ms", None) == "p99 —"


def test_numbers_have_fewer_decimals_the_larger_they_are() -> None:
    assert [report.number(v) for v in (None, 1234.5, 17.56, 0.123)] == ["—", "1,234", "17.6", "0.12"]


def test_json_shape() -> None:
    row = payout_row(250.123, 100.0)
    row.details = {"credits": 400}
    document = report.results_json({"started_at": "2026-12-01T07:55:00+00:00"}, [row])
    assert document["schema"] == report.SCHEMA_VERSION
    assert document["started_at"] == "2026-12-01T07:55:00+00:00"
    (result,) = document["results"]
    assert set(result) == {"key", "title", "status", "value", "unit", "ratio_to_raw_insert", "figures", "targets",
                           "met", "note", "others_cpu_pct", "details"}
    assert result["value"] == 250.12 and result["met"] is True and result["details"] == {"credits": 400}
    assert result["targets"][0] == {"label": "≥ 200/s", "figure": "value", "limit": 200, "at_least": True, "met": True}
    json.dumps(document)  # serialisable as it is


# --- configuration ---------------------------------------------------------------------------------


def test_every_scenario_is_wanted_without_only_and_raw_always() -> None:
    everything = config.BenchConfig()
    assert all(everything.wants(s) for s in config.SCENARIOS)
    some = config.BenchConfig(only=("webhook",))
    assert some.wants("webhook") and some.wants("raw") and not some.wants("payouts")


def test_sizes_override_only_what_is_given() -> None:
    sizes = config.sizes_with(config.QUICK, credits=7, stores=None)
    assert sizes.credits == 7 and sizes.stores == config.QUICK.stores


def test_settings_are_name_value_pairs() -> None:
    assert config.parse_settings(["DISPERSA_RELAY_IDLE_SECONDS=0.05", "log_level=INFO"]) == {
        "relay_idle_seconds": "0.05", "log_level": "INFO"}
    with pytest.raises(ValueError):
        config.parse_settings(["no-equals-sign"])


def test_testbed_settings_carry_the_worker_shape_and_a_raised_stp_limit() -> None:
    bench = config.BenchConfig(processes=3, threads=5, web_workers=4, settings={"log_level": "INFO"})
    values = bench.testbed_settings()
    assert (values["worker_processes"], values["worker_threads"], values["web_workers"]) == (3, 5, 4)
    assert values["stp_rate_limit_per_second"] >= 10_000 and values["log_level"] == "INFO"


def test_pymysql_arguments_from_the_database_url() -> None:
    args = config.pymysql_arguments("mysql+pymysql://root:p%40ss@127.0.0.1:3307/dispersa_bench?charset=utf8mb4")
    assert (args["host"], args["port"], args["user"], args["password"], args["database"]) == (
        "127.0.0.1", 3307, "root", "p@ss", "dispersa_bench")


def test_unknown_scenario_is_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(cli, ["--only", "nonsense"])
    assert result.exit_code == 2
    assert "nonsense" in result.output


def test_quick_fits_its_budget_in_size() -> None:
    quick, full = config.QUICK, config.FULL
    assert quick.credits < full.credits and quick.payouts < full.payouts and quick.webhook_duration <= 5


# --- ledger verify's summary line ------------------------------------------------------------------


def test_the_summary_ledger_verify_prints_is_understood() -> None:
    from usecases.verify import VerifyReport

    line = VerifyReport(stores=3, balance_updates=1200, transfers=7, violations=["x"]).summary()
    found = ledger.SUMMARY.search(line)
    assert found is not None and [int(g) for g in found.groups()] == [3, 1200, 7, 1]


# --- the load generator ----------------------------------------------------------------------------


def test_callback_bodies_are_valid_stp_callbacks_each_its_own() -> None:
    from web.routes import STP_ORDER_STATUS

    first, second = json.loads(loadgen.callback_body(1)), json.loads(loadgen.callback_body(2))
    assert STP_ORDER_STATUS.parse(first)["estado"] == "LQ"
    assert first["id"] != second["id"] and first["folioOrigen"] != second["folioOrigen"]


def test_requests_carry_the_secret_and_the_length() -> None:
    load = loadgen.Load("127.0.0.1", 8000, "/webhooks/stp/order-status", "s3cret", 0, 0.0, 1.0)
    raw = loadgen.request_bytes(load, b'{"a": 1}')
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /webhooks/stp/order-status HTTP/1.1\r\n")
    assert b"X-Webhook-Secret: s3cret" in head and b"Content-Length: 8" in head and body == b'{"a": 1}'


def test_responses_are_read_to_their_length() -> None:
    async def read() -> tuple[tuple[int, bool], bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhelloNEXT")
        answer = await loadgen.read_response(reader)
        return answer, await reader.read(4)

    (status, closing), rest = asyncio.run(read())
    assert (status, closing, rest) == (200, True, b"NEXT")


def test_load_stops_at_its_request_count_and_records_after_the_warm_up() -> None:
    load = loadgen.Load("h", 1, "/", "", requests=2, record_from=0.0, stop_at=float("inf"))
    assert [load.take(), load.take(), load.take()] == [1, 2, None]
    load.record(started=-1.0, status=200)  # sent during the warm-up: not counted
    load.record(started=1.0, status=200)
    assert load.statuses[200] == 1 and len(load.latencies_ms) == 1


# --- the profile's classification ------------------------------------------------------------------

WORKER = "process_message (dramatiq/worker.py:500)"


def stack(*frames: str, count: int = 1) -> str:
    return ";".join(["thread (1): Thread-3", "run (threading.py:1)", WORKER, *frames]) + f" {count}"


def test_a_socket_read_under_pymysql_is_waiting_for_mariadb() -> None:
    frames, count = profiling.split_line(stack("execute (sqlalchemy/engine/base.py:1)",
                                               "_read_bytes (pymysql/connections.py:2)",
                                               "readinto (socket.py:3)", count=7))
    assert count == 7 and profiling.classify(frames) == "MariaDB round trips (socket)"


def test_a_send_through_a_gevent_socket_is_a_round_trip_of_its_caller() -> None:
    frames = profiling.split_line(stack("Connection._write_bytes (pymysql/connections.py:854)",
                                        "SocketMixin.sendall (gevent/_socketcommon.py:693)",
                                        "SocketMixin.send (gevent/_socketcommon.py:716)"))[0]
    assert profiling.classify(frames) == "MariaDB round trips (socket)"


def test_the_innermost_frame_not_of_the_standard_library_decides() -> None:
    orm = profiling.split_line(stack("flush (sqlalchemy/orm/session.py:1)", "deepcopy (copy.py:2)"))[0]
    ours = profiling.split_line(stack("contribute (usecases/ledger.py:1)", "dumps (json/__init__.py:2)"))[0]
    core = profiling.split_line(stack("compile (sqlalchemy/sql/compiler.py:1)"))[0]
    assert profiling.classify(orm) == "SQLAlchemy ORM"
    assert profiling.classify(ours) == "dispersa code"
    assert profiling.classify(core).startswith("SQLAlchemy Core")
    assert profiling.classify(["main (threading.py:1)"]).startswith("other")


def test_opening_a_connection_is_its_own_category() -> None:
    frames = profiling.split_line(stack("connect (sqlalchemy/engine/create.py:1)",
                                        "Connection.connect (pymysql/connections.py:2)",
                                        "SSLContext.load_default_certs (ssl.py:3)"))[0]
    assert profiling.classify(frames).startswith("opening MariaDB connections")


def test_summary_keeps_only_threads_doing_work() -> None:
    lines = [stack("contribute (usecases/ledger.py:1)", "flush (sqlalchemy/orm/session.py:1)", count=3),
             stack("contribute (usecases/ledger.py:1)", "_read_bytes (pymysql/connections.py:2)",
                   "readinto (socket.py:3)", count=1),
             "thread (2): idle;run (threading.py:1);get (queue.py:2) 50"]
    summary = profiling.summarize(lines, profiling.WORK_MARKERS["worker"])
    assert summary["samples"] == 4
    assert summary["categories_pct"] == {"SQLAlchemy ORM": 75.0, "MariaDB round trips (socket)": 25.0}
    assert summary["dispersa_functions_inclusive_pct"] == {"contribute (usecases/ledger.py)": 100.0}


# --- what else used the machine ---------------------------------------------------------------------


def test_descendants_are_found_through_their_parents() -> None:
    table = {10: machine.ProcessCpu("bench", 1, 0), 11: machine.ProcessCpu("sh", 10, 0),
             12: machine.ProcessCpu("dramatiq", 11, 0), 20: machine.ProcessCpu("pytest", 1, 0)}
    assert machine.descends_from(12, 10, table) and machine.descends_from(10, 10, table)
    assert not machine.descends_from(20, 10, table)


def test_share_of_the_machine_other_processes_took(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 2)
    watch = machine.Disturbance(phase_seconds={"payouts": 10.0})
    watch.others_ticks["payouts"] = 5 * machine.CLOCK_TICKS  # 5 CPU-seconds in 10 s of 2 CPUs
    assert watch.share("payouts") == 25.0
    assert watch.share("webhook") is None


def test_cpu_per_item_from_two_snapshots() -> None:
    ticks = machine.CLOCK_TICKS
    before = {"worker": 0, "mariadbd": 10 * ticks, "web": 5 * ticks}
    after = {"worker": 2 * ticks, "mariadbd": 11 * ticks, "web": 5 * ticks}
    assert machine.cpu_ms_per_item(before, after, 1000) == {"worker": 2.0, "mariadbd": 1.0}  # idle ones left out
    assert machine.cpu_ms_per_item(before, after, 0) == {}
    assert machine.cpu_seconds(before, after, "mariadbd") == 1.0


def test_services_and_kernel_threads_are_nobody_s_disturbance() -> None:
    assert machine.shared_work(3782, machine.ProcessCpu("mariadbd", 1, 0))
    assert machine.shared_work(77, machine.ProcessCpu("kworker/u8:0-writeback", 2, 0))
    assert not machine.shared_work(4765, machine.ProcessCpu("pytest", 1, 0))


# --- the dates scenario ----------------------------------------------------------------------------


def test_per_call_figures_from_batched_samples() -> None:
    figures = dates.per_call([1000.0, 2000.0, 3000.0], calls=60, total_ns=120_000)  # 3 batches of 20 calls
    assert figures["mean_us"] == 2.0 and figures["p50_us"] == 2.0 and figures["max_us"] == 3.0
    assert figures["p99_us"] == pytest.approx(2.98)
    assert dates.per_call([], 0, 0)["mean_us"] is None


def test_the_dated_file_asks_for_every_day_of_the_next_31_weekends_included() -> None:
    from datetime import date

    today = date(2026, 12, 1)
    asked = [dates.delivery_date(today, i) for i in range(12_000)]
    assert min(asked) == today and (max(asked) - today).days == 30 and len(set(asked)) == 31
    assert len({d for d in asked[:1000]}) == 31  # each lookup page sees every day
    assert any(d.weekday() >= 5 for d in asked) and date(2026, 12, 25) in asked
    assert dates.csv_line(3, 2000, today).rstrip("\n").split(",")[-1] == "2026-12-22"


def test_the_lookup_step_runs_from_the_split_s_end_to_the_plan_apart_from_the_relay_s_hops() -> None:
    m = dates.Message
    messages = [m("split_batch", ["b", 0], 100.0, 100.1), m("lookup_dates", ["b", 999], 101.5, 101.7),
                m("lookup_dates", ["b", -1], 100.5, 100.7), m("plan_batch", ["b"], 102.0, 102.2)]
    timeline = dates.lookup_timeline(messages, origin=100.0)
    assert timeline["complete"] and timeline["pages"] == 2
    assert timeline["split_end_s"] == 0.5 and timeline["lookup_step_s"] == 1.5
    assert timeline["pages_work_s"] == pytest.approx(1.1)   # 100.7 -> 101.5, 101.7 -> 102.0
    assert timeline["relay_hops_s"] == pytest.approx(0.4)
    assert not dates.lookup_timeline(messages[:2], origin=100.0)["complete"]


def test_dated_rows_are_checked_against_the_rules_paid_when_due_held_after() -> None:
    from datetime import date, timedelta

    today = date(2026, 12, 1)

    def back_to_friday(day: date) -> date:  # a rail with weekends only, lag 0
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day

    r = dates.DatedRow
    good = [r(0, "success", None, today, today, today, 100),
            r(1, "pending", None, date(2026, 12, 6), date(2026, 12, 4), date(2026, 12, 4), 200),
            r(2, "failed", "DATE_NOT_MET", date(2026, 11, 30), None, None, 300)]
    problems, counts = dates.date_problems(good, today, back_to_friday, lambda d: d)
    assert problems == [] and (counts["paid"], counts["held"], counts["refused_date_not_met"]) == (1, 1, 1)
    assert counts["paid_minor"] == 100 and counts["sent_before_the_date_asked"] == 1
    bad = [r(3, "pending", None, date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 7), 1),  # after the date asked
           r(4, "success", None, date(2026, 12, 4), date(2026, 12, 4), date(2026, 12, 4), 1),  # paid early
           r(5, "failed", "DATE_NOT_MET", date(2026, 12, 9), None, None, 1),                   # could be met
           r(6, "failed", "INVALID_AMOUNT", None, None, None, 1)]
    problems, _ = dates.date_problems(bad, today, back_to_friday, lambda d: d)
    assert len(problems) == 4


def test_a_failed_scenario_makes_the_bench_exit_1_and_two_runs_take_their_own_name_and_redis_db(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import bench.run

    runs: list[BenchConfig] = []

    def measured(config: BenchConfig, console: Any, *statuses: str) -> dict[str, Any]:
        runs.append(config)
        return {"results": [{"key": "raw_insert", "status": "measured"},
                            *({"key": "verify", "status": status} for status in statuses)]}

    monkeypatch.setattr(bench.run, "run_bench", lambda config, console: measured(config, console, "failed"))
    failed = CliRunner().invoke(cli, ["--only", "verify", "--name", "bench_two", "--redis-db", "7", "--out",
                                      str(tmp_path / "b.json")])
    assert failed.exit_code == 1 and "1 scenario(s) failed: verify" in failed.output
    assert (runs[-1].name, runs[-1].redis_db, runs[-1].procfile) == ("bench_two", 7, None)
    monkeypatch.setattr(bench.run, "run_bench", lambda config, console: measured(config, console, "measured"))
    assert CliRunner().invoke(cli, ["--only", "verify", "--out", str(tmp_path / "b.json")]).exit_code == 0
    assert (runs[-1].name, runs[-1].redis_db) == ("bench", 10)
    refused = CliRunner().invoke(cli, ["--name", "Bench-Two"])
    assert refused.exit_code == 2 and "--name 'Bench-Two'" in refused.output and len(runs) == 2


# --- the loan servicing row ------------------------------------------------------------------------------


def test_the_loan_servicing_row_is_loans_per_second_with_seconds_per_million_against_60() -> None:
    from datetime import date

    from bench import loans

    book = loans.Book(loans=200_000, customers=50_000, serviced_on=date(2026, 12, 5), as_of=date(2026, 12, 6))
    done = loans.Serviced(slices=4, loans=200_000, fell_due=6_000, late=20_000, seconds=10.0, end_to_end_seconds=11.5)
    row = loans.row_of(done, book, sent=4, written=30.0, raw_insert_rate=4_000.0)
    assert (row.key, row.unit, row.value, row.ratio) == ("loans", "loans/s", 20_000.0, 5.0)
    assert row.figures["s_per_million"] == 50.0 and row.met is True
    slow = loans.row_of(loans.Serviced(4, 200_000, 0, 0, 13.0, 14.0), book, 4, 30.0, None)
    assert slow.figures["s_per_million"] == 65.0 and slow.met is False
    short = loans.row_of(loans.Serviced(3, 150_000, 0, 0, 9.0, 9.5), book, 4, 30.0, None)
    assert short.status == report.INCOMPLETE


def test_loans_is_a_scenario_with_quick_and_full_sizes() -> None:
    assert "loans" in config.SCENARIOS
    assert (config.FULL.loans, config.QUICK.loans) == (1_000_000, 100_000)
    assert config.sizes_with(config.QUICK, loans=5_000, loans_slice=700).loans_slice == 700
