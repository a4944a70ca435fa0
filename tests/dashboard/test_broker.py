"""The embedded broker writes each message atomically (dashboard/broker.py)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from kombu import Connection

from dashboard.broker import PARTIAL_SUFFIX, FilesystemTransport


def _connection(folder: str) -> Connection:
    control = os.path.join(folder, "control")
    os.makedirs(control, exist_ok=True)
    return Connection(
        "filesystem://",
        transport=FilesystemTransport,
        transport_options={
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": control,
            "store_processed": False,
            "polling_interval": 0.05,
        },
    )


def test_a_message_is_never_visible_half_written(tmp_path, monkeypatch):
    """kombu's own transport creates the message file, then writes it: a reader in between gets an
    empty message. Here, while the payload is being written, the queue folder holds no message."""
    folder = str(tmp_path)
    seen_while_writing: list[list[str]] = []
    real_replace = os.replace

    def replace_and_look(src: str, dst: str) -> None:
        seen_while_writing.append(sorted(os.listdir(folder)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_and_look)
    with _connection(folder) as conn:
        queue = conn.SimpleQueue("jobs")
        queue.put({"job_id": 7})
        # While it was being written, the only file in the queue folder was the partial one.
        [files] = seen_while_writing
        queued = [name for name in files if name != "control"]
        assert len(queued) == 1 and queued[0].endswith(".jobs.msg" + PARTIAL_SUFFIX)
        message = queue.get(timeout=5)
        assert message.payload == {"job_id": 7}
        message.ack()
        queue.close()


def test_a_partial_file_is_not_taken_for_a_message(tmp_path):
    folder = str(tmp_path)
    with _connection(folder) as conn:
        # A queue name of its own: kombu keeps some broker state per process, across connections.
        queue = conn.SimpleQueue("other-jobs")
        (tmp_path / f"1_abc.other-jobs.msg{PARTIAL_SUFFIX}").write_bytes(b"")
        queue.put({"n": 1})
        assert queue.get(timeout=5).payload == {"n": 1}
        assert queue.qsize() == 0
        queue.close()


@pytest.mark.skipif(
    settings.CELERY_BROKER_URL != "filesystem://", reason="the embedded broker is not in use"
)
def test_the_embedded_broker_is_this_transport():
    from dashboard.celery import app

    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, FilesystemTransport)
