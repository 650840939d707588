"""/metrics with OUTPOST_METRICS_TOKEN set answers only the bearer of that token; without it,
it stays open (a scraper on a private address); a token too short to be one is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Settings, SettingsError, settings_from

TOKEN = "m3tr1cs-t0ken-for-the-scraper"


def client_for(tmp_path: Path, token: str | None) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        metrics_token=token,
    )
    with TestClient(create_app(settings, run_sweeper=False)) as client:
        yield client


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path, TOKEN)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"],
)
def test_metrics_refuses_without_the_token(guarded: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert "outpost_" not in response.text and TOKEN not in response.text


def test_metrics_answers_the_token(guarded: TestClient) -> None:
    response = guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert 'outpost_reports_total{outcome="accepted"} 0' in response.text
    assert guarded.get("/healthz").status_code == 200  # the health check stays open


def test_metrics_open_without_a_token(tmp_path: Path) -> None:
    for client in client_for(tmp_path, None):
        assert client.get("/metrics").status_code == 200


def test_the_token_comes_from_the_environment_and_must_be_long() -> None:
    settings = settings_from(data_dir="/tmp/x", env={"OUTPOST_METRICS_TOKEN": TOKEN})
    assert settings.metrics_token == TOKEN
    assert settings_from(data_dir="/tmp/x", env={"OUTPOST_METRICS_TOKEN": ""}).metrics_token is None
    with pytest.raises(SettingsError, match="at least 16 characters"):
        settings_from(data_dir="/tmp/x", env={"OUTPOST_METRICS_TOKEN": "short"}).check()
