"""Entry point: `flask --app app ...` and `gunicorn app:app` both load this."""
from supportapp import create_app

app = create_app()
