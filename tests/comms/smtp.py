"""A real SMTP server on loopback for the email tests (aiosmtpd from PyPI).

Prints one JSON line with its port, then one JSON line per message received: the envelope
(MAIL FROM, RCPT TO), the raw bytes (base64), and the message as Python's own email parser
reads it (decoded headers, text and HTML bodies, attachments). Runs until its stdin closes.

    python smtp.py                      plain SMTP
    python smtp.py starttls CERT KEY    STARTTLS offered and required before MAIL
    python smtp.py tls CERT KEY         TLS from the first byte
"""

import base64
import email
import email.policy
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Recorder:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        attachments = [
            {"filename": part.get_filename(), "content_type": part.get_content_type(),
             "data": base64.b64encode(part.get_payload(decode=True)).decode()}
            for part in msg.iter_attachments()
        ]
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "raw": base64.b64encode(raw).decode(),
            "headers": {k: str(v) for k, v in msg.items()},
            "header_names": [k for k, _ in msg.items()],
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "attachments": attachments,
        }), flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    port = free_port()
    options = {}
    if len(sys.argv) == 4:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        if sys.argv[1] == "starttls":
            options = {"tls_context": ctx, "require_starttls": True}
        else:
            options = {"ssl_context": ctx}
    controller = Controller(Recorder(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
