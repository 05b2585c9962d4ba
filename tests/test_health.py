"""GET /healthz tells a load balancer whether the database answers."""
from tests.conftest import make_app


def test_healthz_ok(client):
    """A reachable database answers 200."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_healthz_database_down():
    """An unreachable database answers 503, not 500."""
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
