"""A webhook receiver on loopback for the webhook tests: it checks signatures itself.

Usage: webhooks.py SECRET

Prints one JSON line with its port, then one per request: path, headers, the JSON body, the
time it arrived, and for signed requests whether the signature (HMAC-SHA256 of
"TIMESTAMP.BODY" with SECRET, in x-switchboard-signature) verifies and the timestamp is within
five minutes. Paths: any path answers 200, except /flaky (503 on the first request, then 200),
/limited (429 with Retry-After: 2 on the first request, then 200), /down (always 500),
/gone (404) and /ntfy (ntfy's publish answer, or 401 without the token `tk_test`). Runs until its stdin closes.
"""

import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = sys.argv[1].encode()
seen = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        ts = self.headers.get("x-switchboard-timestamp")
        sig = self.headers.get("x-switchboard-signature")
        verified = None
        if sig is not None:
            expected = "sha256=" + hmac.new(SECRET, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
            verified = hmac.compare_digest(expected, sig) and abs(time.time() - int(ts)) < 300
        with lock:
            n = seen.get(self.path, 0) + 1
            seen[self.path] = n
        print(json.dumps({"path": self.path, "n": n, "t": time.time(), "verified": verified,
                          "content_type": self.headers.get("content-type"),
                          "body": json.loads(body or b"null")}), flush=True)
        status, extra = 200, {}
        if self.path == "/flaky" and n == 1:
            status = 503
        elif self.path == "/limited" and n == 1:
            status, extra = 429, {"Retry-After": "2"}
        elif self.path == "/down":
            status = 500
        elif self.path == "/gone":
            status = 404
        reply = b"ok"
        if self.path == "/ntfy":
            # ntfy answers a publish with the message it stored.
            if self.headers.get("authorization") != "Bearer tk_test":
                status, reply = 401, b'{"error":"unauthorized"}'
            else:
                reply = json.dumps({"id": f"msg{n}", "topic": json.loads(body)["topic"]}).encode()
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
