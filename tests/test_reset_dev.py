"""`make reset` (scripts/reset_dev.py) removes what `make run` made, and nothing while it runs."""

from pathlib import Path
from types import SimpleNamespace

from scripts.reset_dev import emulator_is_running, reset
from stripe_emulator.statefile import StateFile
from supportapp.services.event_journal import journal_directory


def _journal(config, instance):
    return Path(journal_directory(SimpleNamespace(config=config, instance_path=instance)))


def _made_by_make_run(instance):
    database = instance / "supportapp.db"
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "TRACKING_JOURNAL_DIR": None}
    journal = _journal(config, instance)
    for path in (database, instance / "supportapp.db-wal", journal / "events.jsonl",
                 instance / "mail" / "1.eml", instance / "secret_key"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    StateFile(instance / "stripe-emulator.sqlite3").close()
    return config


def test_reset_removes_database_journal_emulator_state_and_mail(tmp_path):
    """The SQLite database and its companions, its journal, the emulator's file, the mail go;
    the secret key stays."""
    config = _made_by_make_run(tmp_path)
    removed, kept = reset(config, tmp_path, tmp_path / "stripe-emulator.sqlite3")
    assert sorted(p.name for p in removed) == sorted([
        "supportapp.db", "supportapp.db-wal", _journal(config, tmp_path).name,
        "stripe-emulator.sqlite3", "mail"])
    assert kept == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
    assert reset(config, tmp_path, tmp_path / "stripe-emulator.sqlite3") == ([], [])


def test_reset_leaves_a_postgresql_database_alone(tmp_path):
    """A DATABASE_URL that is not a SQLite file is named (without its password), not dropped."""
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://app:s3cret@db.example/news",
              "TRACKING_JOURNAL_DIR": None}
    removed, kept = reset(config, tmp_path, tmp_path / "stripe-emulator.sqlite3")
    assert removed == []
    assert len(kept) == 1 and "db.example/news" in kept[0] and "s3cret" not in kept[0]


def test_a_running_emulator_is_noticed(tmp_path):
    """While an emulator holds its state file, reset knows it is running."""
    path = tmp_path / "stripe-emulator.sqlite3"
    assert not emulator_is_running(path)
    held = StateFile(path)
    try:
        assert emulator_is_running(path)
    finally:
        held.close()
    assert not emulator_is_running(path)
