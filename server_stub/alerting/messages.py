"""An alert as each destination reads it: JSON, a Slack message, a Teams card, an e-mail.

Every form carries the idempotency key (the alert's uid): the JSON body as `idempotency_key`,
the HTTP request as the Idempotency-Key header, the e-mail as its Message-ID."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

_MAX_RULES = 20  # a device failing more is listed by id past this many, never cut silently


def alert_json(payload: dict[str, Any], uid: str, dashboard_url: str) -> dict[str, Any]:
    """The JSON body: the alert as written, its key, and the link to the device's page."""
    link = dashboard_url.rstrip("/") + str(payload.get("path", "/"))
    return {"source": "outpost", "idempotency_key": uid, **payload, "link": link}


def text_lines(message: dict[str, Any]) -> list[str]:
    """The alert as plain lines: who, what, each rule with its evidence and remedy, the link."""
    device = message["device"]
    lines = [
        str(message["title"]),
        f"Device: {device['name']}  Owner: {device['owner']}  Department: {device['department']}",
        f"Severity: {message['severity']}  Kind: {message['kind']}  At: {message['at']}",
    ]
    if message.get("detail"):
        lines.append(str(message["detail"]))
    rules = list(message.get("rules") or [])
    for rule in rules[:_MAX_RULES]:
        lines.append(f"- {rule['id']} {rule['title']} ({rule['severity']}): {rule['status']}")
        lines.extend(f"    evidence: {line}" for line in rule.get("evidence") or [])
        lines.append(f"    remedy: {rule['remediation']}")
    if len(rules) > _MAX_RULES:
        lines.append("- and " + ", ".join(r["id"] for r in rules[_MAX_RULES:]))
    lines.append(f"Device page: {message['link']}")
    return lines


def slack_body(message: dict[str, Any]) -> dict[str, Any]:
    """An incoming-webhook message: `text` for notifications, one mrkdwn section for the rest."""
    lines = text_lines(message)
    body = "\n".join(lines[1:-1])[:2900]  # a section's text holds at most 3,000 characters
    link = f"<{message['link']}|Device page>"
    return {
        "text": f"{lines[0]} ({message['severity']})",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "section", "text": {"type": "mrkdwn", "text": link}},
        ],
    }  # fmt: skip


def teams_body(message: dict[str, Any]) -> dict[str, Any]:
    """A Teams (Workflows) message with one Adaptive Card."""
    lines = text_lines(message)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": lines[0], "weight": "Bolder", "wrap": True},
            *({"type": "TextBlock", "text": line, "wrap": True} for line in lines[1:-1]),
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Device page", "url": message["link"]}],
    }  # fmt: skip
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def email(message: dict[str, Any], sender: str, to: str) -> EmailMessage:
    """A plain-text mail; its Message-ID is the idempotency key, so a repeat is one thread."""
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, to
    mail["Subject"] = f"[Outpost {message['severity']}] {message['title']}"
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message['idempotency_key']}@outpost>"
    mail.set_content("\n".join(text_lines(message)) + "\n")
    return mail
