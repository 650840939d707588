"""Sending one message: a webhook POST (requests) or a mail over SMTP (STARTTLS or TLS, login).

A failure is a SendError whose text names what went wrong, never the webhook's URL (its path is
often the secret) nor the SMTP password."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

import orjson
import requests

from server_stub.alerting.destinations import Smtp

TIMEOUT_S = 10.0


class SendError(Exception):
    """One attempt failed; the text is safe to log and to show."""


def _cause(exc: BaseException) -> str:
    """The innermost OS error's text (e.g. "Connection refused"), else the exception's type."""
    found: BaseException | None = exc
    while found is not None:
        if isinstance(found, OSError) and found.strerror:
            return f"{type(exc).__name__}: {found.strerror}"
        found = found.__cause__ or found.__context__
    return type(exc).__name__


def post_webhook(
    session: requests.Session, url: str, body: dict[str, Any], key: str, timeout: float
) -> None:
    """POST the JSON body; any 2xx is delivered."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    try:
        answer = session.post(url, data=orjson.dumps(body), headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise SendError(_cause(exc)) from None
    if not 200 <= answer.status_code < 300:
        raise SendError(f"HTTP {answer.status_code} from the webhook")


def send_mail(
    server: Smtp, mail: EmailMessage, timeout: float, context: ssl.SSLContext | None = None
) -> None:
    """Send over TLS only: smtps from the start, smtp after STARTTLS (refused if the server
    does not offer it); then log in when the URL named a user."""
    context = context or ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if server.implicit_tls:
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            if not server.implicit_tls:
                client.ehlo()
                if not client.has_extn("starttls"):
                    raise SendError("the SMTP server does not offer STARTTLS")
                client.starttls(context=context)
                client.ehlo()
            if server.username is not None and server.password is not None:
                client.login(server.username, server.password)
            client.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP {exc.smtp_code} from the mail server") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(_cause(exc)) from None
