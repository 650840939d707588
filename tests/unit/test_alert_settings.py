"""Alert settings from the command line and the environment: each bad one refused at start with
a message that names it and never echoes the SMTP password."""

from __future__ import annotations

from pathlib import Path

import pytest

from server_stub.alerting.destinations import Route
from server_stub.cli import main
from server_stub.config import Settings, SettingsError, settings_from

SECRET = "pa55-Hunter2"


def test_destinations_come_from_the_command_line_or_the_environment() -> None:
    env = {
        "OUTPOST_ALERT_WEBHOOKS": "https://hooks.slack.com/services/T0/B0/X, https://a.example/h",
        "OUTPOST_ALERT_EMAILS": "sec@example.org",
        "OUTPOST_SMTP_URL": f"smtp://alerts%40example.org:{SECRET}@mail.example.org",
        "OUTPOST_PUBLIC_URL": "https://outpost.example.org/",
    }
    settings = settings_from(env=env)
    found = settings.destinations()
    assert [d.style for d in found.all] == ["slack", "json", "email"]
    assert [d.label for d in found.all] == [
        "https://hooks.slack.com/… (slack)", "https://a.example/… (json)", "sec@example.org",
    ]  # fmt: skip
    assert found.mail is not None and found.mail.port == 587 and not found.mail.implicit_tls
    assert (found.mail.username, found.mail.password) == ("alerts@example.org", SECRET)
    assert found.mail.sender == "alerts@example.org"
    assert settings.dashboard_url == "https://outpost.example.org"
    given = settings_from(alert_webhooks=["https://b.example/h#format=teams"], env=env)
    assert [d.style for d in given.destinations().all] == ["teams", "email"]


def test_a_route_rides_in_the_fragment_and_is_never_sent() -> None:
    settings = Settings(
        Path("."), "sqlite://",
        alert_webhooks=("https://a.example/h?x=1#severity=critical+high&department=Finance%20Office",),
    )  # fmt: skip
    [hook] = settings.destinations().all
    assert hook.target == "https://a.example/h?x=1"
    assert hook.route == Route(frozenset({"critical", "high"}), frozenset({"Finance Office"}))
    assert hook.route.allows("high", "Finance Office") and not hook.route.allows("high", "Press")
    assert not hook.route.allows("medium", "Finance Office")


def test_the_dashboard_url_defaults_to_where_the_collector_listens() -> None:
    assert Settings(Path("."), "sqlite://", port=9000).dashboard_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alert_webhooks": ("ftp://a.example/h",)}, "alert webhook #1: not an http(s) URL"),
        ({"alert_webhooks": ("https://u:p@a.example/h",)}, "no user or password in the URL"),
        ({"alert_webhooks": ("https://a.example#severity=urgent",)}, "severity must be among"),
        ({"alert_webhooks": ("https://a.example#colour=red",)}, "unknown routing 'colour'"),
        ({"alert_webhooks": ("https://a.example/h", "https://a.example/h")}, "given twice"),
        ({"alert_emails": ("sec@example.org",)}, "--alert-email needs --smtp-url"),
        ({"alert_emails": ("not an address",), "smtp_url": "smtp://m.example"}, "not an address"),
        ({"smtp_url": f"http://u:{SECRET}@m.example"}, "--smtp-url: give smtp://"),
        ({"smtp_url": f"smtp://u:{SECRET}@m.example:port"}, "the port is not a number"),
        ({"smtp_url": "smtp://u@m.example"}, "a user and a password go together"),
        ({"public_url": "outpost.example.org"}, "--public-url"),
        ({"alert_lease_s": 1.0}, "OUTPOST_ALERT_LEASE_S"),
        ({"alert_max_attempts": 0}, "OUTPOST_ALERT_MAX_ATTEMPTS"),
    ],
)
def test_bad_alert_settings_are_refused_clearly(settings: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(Path("."), "sqlite://", **settings).check()  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_a_timing_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(SettingsError, match="OUTPOST_ALERT_POLL_S: 'soon' is not a number"):
        settings_from(env={"OUTPOST_ALERT_POLL_S": "soon"})


def test_the_command_refuses_a_bad_smtp_url_without_echoing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--data-dir", str(tmp_path), "--smtp-url", f"smtps://u:{SECRET}@m.example:x"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--smtp-url: the port is not a number" in err and SECRET not in err
