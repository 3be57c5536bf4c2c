"""What leaves this machine, and to where: `os1 doctor` and GET /api/v1/privacy say it from the settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from os1 import Settings
from os1.doctor import privacy, run_checks
from os1.storage import open_database


def test_local_by_default(tmp_path: Path) -> None:
    for model in ("echo", "default", "openai:llama3@http://127.0.0.1:11434/v1", "openai:m@http://localhost:8080/v1"):
        report = privacy(Settings(home=tmp_path, model=model))
        assert report.summary == "nothing leaves this machine" and not report.destinations, model


def test_a_remote_model_or_database_is_named(tmp_path: Path) -> None:
    report = privacy(Settings(home=tmp_path, model="openai:gpt-x@https://models.example.com/v1",
                              database_url="postgresql+psycopg://os1:hunter2@db.example.net/os1"))
    assert [d.to for d in report.destinations] == ["https://models.example.com/v1", "postgresql+psycopg://***@db.example.net/os1"]
    assert "hunter2" not in str(report.as_dict())
    assert report.as_dict()["leaves_machine"] is True
    lan = privacy(Settings(home=tmp_path, model="openai:m@http://192.168.1.20:11434/v1"))
    assert lan.destinations  # another machine on your network is still another machine


def test_configured_accounts_are_listed_without_secrets(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'os1.db'}")
    try:
        meta = MetaData()
        accounts = Table("test_accounts", meta, Column("id", Integer, primary_key=True), Column("user_id", String(128)),
                         Column("address", String(200)), Column("imap_host", String(200)), Column("password", String(200)))
        meta.create_all(db.engine)
        db.write_sync(lambda c: c.execute(insert(accounts).values(user_id="local", address="dana@example.org",
                                                                  imap_host="imap.example.org", password="s3cret")))
        report = privacy(Settings(home=tmp_path, model="echo"), db)
    finally:
        db.close()
    assert [(d.what, d.to) for d in report.destinations] == [("what the dana@example.org account sends and fetches", "imap.example.org")]
    assert "s3cret" not in str(report.as_dict())


def test_doctor_says_it(tmp_path: Path) -> None:
    checks = {c.name: c for c in run_checks(Settings(home=tmp_path, model="echo"))}
    assert checks["privacy"].detail == "nothing leaves this machine"
    assert "not encrypted" in checks["encryption"].detail
