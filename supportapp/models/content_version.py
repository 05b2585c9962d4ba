"""One row (id 1) whose `stamp` changes whenever what readers see of stories or appeals does.

Story pages are built once and kept per stamp (web/story_page.py): reading this one row
tells every process whether its copy still holds. services/content_stamp.py changes it in
the same transaction as the change itself.
"""
from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db


class ContentVersion(db.Model):
    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # A fresh random number per change, not a counter: a row deleted and made again can
    # never bring back a stamp that a process still holds pages under.
    stamp: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
