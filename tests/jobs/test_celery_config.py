"""The Celery app's delivery settings and beat schedule (no broker needed)."""

from __future__ import annotations

from pathlib import Path

from hunter.config import Settings, settings_report
from hunter.jobs.celery_app import (
    PERIODIC_QUEUE,
    QUEUE,
    TASK_DELIVER_ALERTS,
    TASK_RUN_CHUNK,
    TASK_SCHEDULE_RESCANS,
    TASK_SWEEP,
    beat_schedule,
    broker_url,
    make_celery,
)


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def test_chunks_are_acknowledged_late_one_at_a_time(tmp_path: Path) -> None:
    app = make_celery(_settings(tmp_path, celery_visibility_timeout=900))
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options == {"visibility_timeout": 900}
    assert conf.task_default_queue == QUEUE
    assert conf.task_ignore_result is True
    assert {q.name for q in conf.task_queues} == {QUEUE, PERIODIC_QUEUE}
    assert app.amqp.router.route({}, TASK_SWEEP)["queue"].name == PERIODIC_QUEUE
    assert app.amqp.router.route({}, TASK_RUN_CHUNK)["queue"].name == QUEUE
    assert {TASK_RUN_CHUNK, TASK_SWEEP, TASK_SCHEDULE_RESCANS, TASK_DELIVER_ALERTS} <= set(app.tasks)


def test_broker_url_falls_back_to_redis_url_then_local_redis(tmp_path: Path) -> None:
    assert broker_url(_settings(tmp_path)) == "redis://127.0.0.1:6379/0"
    assert broker_url(_settings(tmp_path, redis_url="redis://cache:6379/2")) == "redis://cache:6379/2"
    rabbit = "amqp://hunter:s3cret@mq:5672/hunter"
    settings = _settings(tmp_path, redis_url="redis://cache:6379/2", broker_url=rabbit)
    assert broker_url(settings) == rabbit
    assert make_celery(settings).conf.broker_url == rabbit
    assert "s3cret" not in str(settings_report(settings))
    assert broker_url(_settings(tmp_path, broker_url="")) == "redis://127.0.0.1:6379/0"


def test_beat_schedule_follows_the_settings(tmp_path: Path) -> None:
    schedule = beat_schedule(
        _settings(tmp_path, job_sweep_interval=15, rescan_interval=600, alerts_delivery_interval=45)
    )
    assert {name: (entry["task"], entry["schedule"]) for name, entry in schedule.items()} == {
        "sweep-stale-chunks": (TASK_SWEEP, 15),
        "deliver-alerts": (TASK_DELIVER_ALERTS, 45),
        "schedule-rescans": (TASK_SCHEDULE_RESCANS, 600),
    }
    # A periodic task nobody picked up within its period is dropped, not piled up.
    assert schedule["sweep-stale-chunks"]["options"] == {"expires": 15}
    assert "schedule-rescans" not in beat_schedule(_settings(tmp_path, rescan_schedule=""))
