"""Entry point: `flask --app app ...` and `gunicorn app:app` both load this."""
from supportapp import create_app
from supportapp.config import load_dotenv_files

# Only entry points read .env (the `flask` command has already read it; reading again
# changes nothing), so gunicorn sees the same settings as `flask`.
load_dotenv_files()
app = create_app()
