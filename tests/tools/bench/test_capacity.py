"""The capacity model's arithmetic and bottleneck, and the counting helpers around it (tools/bench/capacity.py)."""

from __future__ import annotations

import pytest

from tools.bench import capacity
from tools.bench.capacity import Figures, MessageStatements, Proc, Snapshot, predict

FIGURES = Figures(rasa_cpu_s=0.020, actions_cpu_s=0.010, pg_transactions=4.0, pg_tps=4000.0, pg_cores=2,
                  redis_calls={"get": 4.0, "set": 2.0, "del": 1.0},
                  redis_ops_per_s={"get": 70000.0, "set": 70000.0, "del": 70000.0})
"""30 ms of host CPU a message; PostgreSQL 1000 messages/s on 2 cores; Redis 10,000 messages/s."""


def test_hosts_carry_cores_over_cpu_seconds_per_message() -> None:
    one = predict(FIGURES, hosts=1, cores=2)
    assert one.hosts_msg_s == pytest.approx(66.7)  # 1 x 2 / 0.030
    assert one.postgres_msg_s == pytest.approx(1000.0)  # 4000 tx/s x 2/2 cores / 4 tx per message
    assert one.redis_msg_s == pytest.approx(10000.0)  # 70,000 / 7 commands
    assert (one.msg_s, one.bottleneck) == (pytest.approx(66.7), capacity.HOSTS)
    assert predict(FIGURES, hosts=3, cores=8).hosts_msg_s == pytest.approx(800.0)


def test_postgresql_saturates_first_once_there_are_enough_hosts() -> None:
    many = predict(FIGURES, hosts=20, cores=8)  # hosts 5333 msg/s; PostgreSQL on 8 cores 4000
    assert many.postgres_msg_s == pytest.approx(4000.0)
    assert (many.msg_s, many.bottleneck) == (pytest.approx(4000.0), capacity.POSTGRES)


def test_redis_does_not_scale_with_cores_and_can_be_the_bottleneck() -> None:
    slow_redis = Figures(**{**FIGURES.__dict__, "redis_ops_per_s": {"get": 700.0, "set": 700.0, "del": 700.0}})
    assert predict(slow_redis, 1, 2).redis_msg_s == predict(slow_redis, 1, 8).redis_msg_s == pytest.approx(100.0)
    assert predict(slow_redis, 10, 8).bottleneck == capacity.REDIS


def test_a_message_costs_redis_the_sum_of_its_commands_times() -> None:
    figures = Figures(0.01, 0.0, 1.0, None, 2, redis_calls={"get": 2.0, "set": 1.0},
                      redis_ops_per_s={"get": 100.0, "set": 50.0})
    assert capacity.redis_capacity(figures) == pytest.approx(25.0)  # 1 / (2/100 + 1/50)


def test_a_command_without_a_benchmark_figure_counts_at_the_slowest_rate() -> None:
    figures = Figures(0.01, 0.0, 1.0, None, 2, redis_calls={"get": 1.0, "eval": 1.0},
                      redis_ops_per_s={"get": 100.0, "set": 50.0})
    assert capacity.redis_capacity(figures) == pytest.approx(1 / 0.03)


def test_an_engine_not_measured_is_left_out_not_taken_as_zero() -> None:
    figures = Figures(0.02, 0.01, 4.0, None, 2)
    prediction = predict(figures, 2, 2)
    assert prediction.postgres_msg_s is None and prediction.redis_msg_s is None
    assert (prediction.msg_s, prediction.bottleneck) == (pytest.approx(133.3), capacity.HOSTS)


def test_a_sanic_worker_uses_at_most_one_core_for_rasa() -> None:
    assert predict(FIGURES, 1, 8, workers=2).hosts_msg_s == pytest.approx(100.0)  # 2 workers / 0.020 s, not 8/0.03
    assert predict(FIGURES, 1, 2, workers=2).hosts_msg_s == pytest.approx(66.7)


def test_the_prediction_table_covers_every_host_count_and_size() -> None:
    rows = capacity.predictions(FIGURES)
    assert [(row["cores"], row["hosts"]) for row in rows] == [
        (cores, n) for cores in capacity.HOST_SIZES for n in capacity.HOST_COUNTS]
    assert [row["bottleneck"] for row in rows if row["cores"] == 2] == [capacity.HOSTS] * 5
    eight = {row["hosts"]: row for row in rows if row["cores"] == 8}
    assert eight[1]["msg_s"] == pytest.approx(266.7)
    assert (eight[10]["msg_s"], eight[10]["bottleneck"]) == (pytest.approx(2666.7), capacity.HOSTS)


def test_the_bottleneck_moves_to_postgresql_from_so_many_hosts() -> None:
    figures = Figures(**{**FIGURES.__dict__, "pg_tps": 4100.0})  # PostgreSQL: 1025 msg/s on 2 cores, 4100 on 8
    # a 2-core host carries 66.7 msg/s: 15 hosts 1000, 16 hosts 1067
    assert capacity.crossover(figures, 2) == {"cores": 2, "hosts": 16, "then": capacity.POSTGRES, "at_msg_s": 1025.0}
    assert predict(figures, 15, 2).bottleneck == capacity.HOSTS
    assert predict(figures, 16, 2).bottleneck == capacity.POSTGRES
    assert (capacity.crossover(figures, 8) or {}).get("hosts") == 16
    assert capacity.crossover(Figures(0.02, 0.01, 4.0, None, 2), 2) is None


def test_multihost_runs_are_compared_on_this_machine_and_as_separate_hosts() -> None:
    report = {"machine": {"cpus": 2}, "workers_per_host": 1, "throughput": [
        {"hosts": 1, "senders": 16, "throughput": 36.0, "cpu_ms_per_message": 33.0},
        {"hosts": 1, "rate": 12.0, "throughput": 12.0, "cpu_ms_per_message": 31.0},  # open loop: not saturated
        {"hosts": 2, "mode": "closed loop, 16 sender(s)", "throughput": 48.0, "cpu_ms_per_message": 34.0},
    ]}
    rows = capacity.compare_multihost(FIGURES, machine_cpu_s=0.040, report=report)
    assert [row["hosts"] for row in rows] == [1, 2]
    assert rows[0]["predicted_msg_s_on_this_machine"] == pytest.approx(50.0)  # min(2/0.040, 1 worker/0.020)
    assert rows[1]["predicted_msg_s_on_this_machine"] == pytest.approx(50.0)
    assert rows[1]["predicted_msg_s_separate_2_core_hosts"] == pytest.approx(133.3)
    assert rows[1]["measured_msg_s"] == 48.0


def test_background_is_scaled_by_time_for_cpu_and_redis_and_taken_once_for_postgresql() -> None:
    idle = {"span_s": 10.0, "cpu.rasa": 0.1, "redis.get": 50.0, "pg.xact_commit": 3.0, "machine.busy_s": 5.0}
    raw = {"span_s": 20.0, "cpu.rasa": 3.0, "redis.get": 900.0, "pg.xact_commit": 103.0, "machine.busy_s": 30.0,
           "redis.set": 0.0}
    assert capacity.net(raw, idle) == {"span_s": 20.0, "cpu.rasa": pytest.approx(2.8), "redis.get": 800.0,
                                       "pg.xact_commit": 100.0, "machine.busy_s": 30.0, "redis.set": 0.0}
    assert capacity.net({"span_s": 1.0, "redis.get": 1.0}, idle)["redis.get"] == 0.0  # never below zero


def test_cpu_deltas_count_new_processes_from_zero() -> None:
    before = Snapshot(0.0, {"pg.xact_commit": 5.0}, {"rasa": [1, 2]},
                      {1: Proc(0, "python", 1.0), 2: Proc(1, "python", 2.0), 9: Proc(0, "bash", 7.0)})
    after = Snapshot(4.0, {"pg.xact_commit": 9.0}, {"rasa": [1, 3, 9]},
                     {1: Proc(0, "python", 1.5), 3: Proc(1, "python", 0.25), 9: Proc(1, "python", 0.5)})
    # pid 2 ended (its time is gone), 3 is new, 9 is a reused pid (another program): counted from zero
    assert capacity.delta(before, after) == {"span_s": 4.0, "pg.xact_commit": 4.0, "cpu.rasa": pytest.approx(1.25)}


def test_descendants_follow_the_process_tree() -> None:
    table = {10: Proc(1, "python", 0), 11: Proc(10, "python", 0), 12: Proc(11, "python", 0), 13: Proc(1, "x", 0)}
    assert sorted(capacity.descendants(table, 10)) == [10, 11, 12]
    assert capacity.descendants(table, 99) == []


def test_per_message_figures() -> None:
    counts = {"cpu.rasa": 2.0, "cpu.actions": 1.0, "cpu.postgres_all": 0.5, "cpu.postgres_ours": 0.4,
              "cpu.load_generator": 0.5, "machine.busy_s": 5.0, "pg.xact_commit": 100.0, "pg.xact_rollback": 300.0,
              "table.events.n_tup_ins": 600.0, "table.events.idx_scan": 0.0, "redis.get": 400.0, "redis.info": 9.0}
    figures = capacity.per_message(counts, 100)
    assert figures["cpu_ms"]["rasa"] == 20.0 and figures["host_cpu_ms"] == 30.0
    assert figures["other_work_ms"] == 10.0  # 5 s busy - 4 s of ours (postgres_ours is within postgres_all)
    assert figures["postgres"]["transactions"] == 4.0
    assert figures["tables"] == {"events": {"n_tup_ins": 6.0}}
    assert figures["redis_commandstats"] == {"get": 4.0}  # the probe's own INFO left out


def test_the_pgbench_shape_comes_from_the_counted_figures() -> None:
    # 3-turn conversations, as traced: per message a lookup, a read and a save, each after the pool's ping (a commit
    # of its own); a conversation's first message also saves its empty new tracker
    pg = {"xact_commit": 4 + 2 / 3, "xact_rollback": 2.0}
    tables = {"handoff_tickets": {"idx_scan": 1.0}, "events": {"n_tup_ins": 6.33, "idx_scan": 7.0}}
    shape = capacity.message_statements(pg, tables)
    assert shape == MessageStatements(handoff_lookups=1.0, tracker_reads=1.0, saves=1.0, empty_saves=0.333,
                                      rows_per_insert=6.33)
    assert shape.transactions == pytest.approx(pg["xact_commit"] + pg["xact_rollback"], abs=0.01)
    assert capacity.message_statements({}, {}) == MessageStatements(0.0, 0.0, 0.0, 0.0, 0.0)


ROWS = [{"type_name": "user", "intent_name": "greet", "action_name": None,
         "data": '{"text": "it\'s 100% fine", "path": "C:\\\\x", "t": "12:34"}'},
        {"type_name": "action", "intent_name": None, "action_name": "action_listen", "data": "{}"}]


def test_the_pgbench_script_runs_one_message_of_statements() -> None:
    shape = MessageStatements(handoff_lookups=1, tracker_reads=2, saves=1, empty_saves=0, rows_per_insert=3)
    script = capacity.pgbench_script(shape, ROWS, senders=500)
    lines = script.splitlines()
    assert lines[0] == "\\set sender_n random(1, 500)"
    assert lines.count("SELECT 1;") == lines.count("BEGIN;") == 4  # the pool's ping before each transaction
    assert lines.count("ROLLBACK;") == 3 and lines.count("COMMIT;") == 1
    assert "%%" not in script and "capacity-sender-id" not in script and "\\if" not in script
    assert script.count("CAST(:sender_n AS VARCHAR)") >= 4
    insert = next(line for line in lines if line.startswith("INSERT INTO events"))
    assert insert.count("clock_timestamp()") == 3  # three rows, the run's own, cycled
    assert "'{\"text\": \"it''s 100% fine\", \"path\": \"C:\\\\x\", \"t\": \"12:34\"}'" in insert
    assert all(not line.startswith("\\") or line.split()[0] in ("\\set", "\\if", "\\else", "\\endif")
               for line in lines)  # no data line mistaken for a meta-command


def test_fractions_are_drawn_so_that_the_averages_are_the_counted_ones() -> None:
    shape = MessageStatements(handoff_lookups=1, tracker_reads=1, saves=1, empty_saves=0.25, rows_per_insert=2.75)
    lines = capacity.pgbench_script(shape, ROWS, senders=10).splitlines()
    # a quarter of the runs are a new conversation's first message: a sender with no rows yet, and the empty save
    start = lines.index("\\if :first <= 250")
    assert lines[start - 1] == "\\set first random(1, 1000)"
    assert lines[start + 1] == "\\set sender_n random(11, 2000000000)"
    otherwise = lines.index("\\else", start)
    assert lines[start:otherwise].count("BEGIN;") == 4 and lines[otherwise:].count("BEGIN;") == 3
    assert lines[-1] == "\\endif"
    more = lines.index("\\if :more_rows <= 750")
    three, two = lines[more + 1], lines[more + 3]
    assert lines[more + 2] == "\\else" and lines[more + 4] == "\\endif"
    assert (three.count("clock_timestamp()"), two.count("clock_timestamp()")) == (3, 2)


def test_pgbench_and_redis_benchmark_output_is_read() -> None:
    pgbench = ("number of transactions actually processed: 16000\nnumber of failed transactions: 0 (0.000%)\n"
               "latency average = 2.500 ms\ninitial connection time = 5.1 ms\n"
               "tps = 800.123456 (without initial connection time)\n")
    assert capacity.parse_pgbench(pgbench) == {"tps": 800.123456, "latency_ms": 2.5, "runs": 16000.0, "failed": 0.0}
    csv = ('"test","rps","avg_latency_ms","min_latency_ms"\n'
           '"SET talentbot-capbench-x:__rand_int__ xxxx","86956.52","0.300","0.080"\n')
    assert capacity.parse_redis_csv(csv) == pytest.approx(86956.52)
    assert capacity.parse_redis_csv("ERR unknown command\n") is None


def test_benchmarked_commands_stay_under_the_runs_key_prefix() -> None:
    assert capacity.benchmark_command("set", "p:", "vv") == ["SET", "p:__rand_int__", "vv"]
    assert capacity.benchmark_command("del", "p:", "vv") == ["DEL", "p:__rand_int__"]
    assert capacity.benchmark_command("publish", "p:", "vv") == ["PUBLISH", "p:channel", "vv"]
    assert capacity.benchmark_command("eval", "p:", "vv") is None


def test_only_its_own_databases_are_dropped() -> None:
    with pytest.raises(ValueError):
        capacity.drop_database({}, "talentbot")


def test_the_production_set_up_has_the_channels_make_bench_gives_it() -> None:
    from tools.bench.main import SOCKETIO

    assert capacity.CREDENTIALS == {"connectors.rest.RestInput": None, **SOCKETIO}
    assert capacity.SCRATCH_DB.startswith(capacity.DB_NAME)


def test_the_documents_tables_are_printed_from_a_report() -> None:
    counts = {"cpu.rasa": 0.2, "cpu.actions": 0.05, "pg.xact_commit": 46.0, "pg.xact_rollback": 20.0,
              "table.handoff_tickets.idx_scan": 10.0, "machine.busy_s": 0.5}
    phase = {"load": {"requests": 10, "errors": 0, "unexpected_replies": 0, "throughput": 5.0, "p50_ms": 90.0,
                      "p95_ms": 200.0}, "loadavg": [1.5, 1.0, 1.0], "machine_cpu_busy": 0.93,
             "per_message": capacity.per_message(counts, 10)}
    report = {"started": "2026-12-01T11:00:00+0000", "phases": {"questions": phase},
              "per_message": phase["per_message"], "model": {"predictions": capacity.predictions(FIGURES)},
              "redis_monitor": {"by_kind": {"questions": {"get": 4.0}}, "mix": {"get": 4.0}, "databases": [0]}}
    text = capacity.markdown(report)
    assert "| Rasa server (2 Sanic workers) | 20 | 20 |" in text
    assert "| transactions (commits + rollbacks) | 6.6 | 6.6 |" in text
    assert "| 10 × 8 | 2666.7 | 4000 | 10000 | **2666.7** | hosts' CPU |" in text
    assert "| get | 4 | 4 | 0 |" in text and "93 %" in text


def test_the_sampler_counts_a_process_that_ended_before_the_end(tmp_path) -> None:
    import subprocess
    import sys
    import time

    busy = tmp_path / "capacity-busy"  # the kernel names a process after the file it runs
    busy.symlink_to(sys.executable)
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    with capacity.CpuSampler("capacity-busy", interval_s=0.05) as sampler:
        subprocess.run([str(busy), "-c", burn], check=True)  # ends before the sampler stops
        time.sleep(0.1)
    assert sampler.seconds >= 0.2


def test_make_bench_shows_the_capacity_lines_and_survives_a_failed_step(monkeypatch, tmp_path) -> None:
    from tools.bench.main import summarise

    summary = summarise({"capacity": {"summary": {"pgbench: message scripts/s": "8: 910"}}})
    assert summary["capacity: pgbench: message scripts/s"] == "8: 910"

    def fails(*args, **kwargs):
        raise ConnectionError("PostgreSQL is down")

    monkeypatch.setattr(capacity, "run", fails)
    result = capacity.step(tmp_path / "model.tar.gz", quick=True, work=tmp_path)
    assert result["error"] == "ConnectionError: PostgreSQL is down" and summarise({"capacity": result})[
        "capacity: failed"] == result["error"]
