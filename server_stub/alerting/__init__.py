"""Alert delivery: destinations, message bodies, senders (webhook, SMTP) and the worker."""
