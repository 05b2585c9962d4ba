"""What a report is about (an appeal, a story), checked before it is run.

A report asked about an appeal or story that does not exist is a request that makes no
sense: ReportError, which pages and the API answer with 400 and the message.
"""
from supportapp.extensions import db
from supportapp.models import Appeal, Story
from supportapp.services.periods import ReportError


def report_appeal(appeal_id):
    """The Appeal a report asks about; ReportError if none is given or it does not exist."""
    if appeal_id is None:
        raise ReportError("say which appeal: ?appeal= and its number")
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        raise ReportError(f"there is no appeal number {appeal_id}")
    return appeal


def report_story(story_id):
    """The Story a report asks about; ReportError if it does not exist."""
    story = db.session.get(Story, story_id)
    if story is None:
        raise ReportError(f"there is no story number {story_id}")
    return story
