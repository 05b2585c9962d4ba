"""Extensions, created unbound here and bound to the app in `create_app`."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
login_manager = LoginManager()
login_manager.login_view = "dashboard.login"
login_manager.login_message_category = "info"
# Sends only what the worker hands it (services/mail_worker.py), always over SMTP.
mail = Mail()


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    # WAL lets readers and the one writer proceed together; NORMAL sync still survives an
    # app process crash (only power loss can drop the last commits). Waits, not errors,
    # when another process holds the write lock.
    # By the class's module, not isinstance: importing sqlite3 would load it (1 MB) into
    # every PostgreSQL worker too.
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@event.listens_for(Engine, "connect")
def _binary_arrays_for_postgresql(dbapi_connection, _record):
    # Lists (models/dialect.insert_many's and rows_with_keys' arrays) go in binary: psycopg's
    # text array format checks every element against a regular expression for quoting,
    # which cost a roll-up more Python than the rest of its work on each row.
    if type(dbapi_connection).__module__.startswith("psycopg"):
        from psycopg.types.array import ListBinaryDumper

        dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)
