"""A seller's callback endpoint for `reply_mode: callback` (and staff replies): verifies the signature.

    BOTS_WEBHOOK_SECRET=... python examples/callback_receiver.py      # listens on 127.0.0.1:9000/callback
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["BOTS_WEBHOOK_SECRET"].encode()


class Callback(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers.get("X-Bots-Timestamp", "0")
        expected = "sha256=" + hmac.new(SECRET, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
        if not (fresh and hmac.compare_digest(expected, self.headers.get("X-Bots-Signature", ""))):
            self.send_response(401)
            self.end_headers()
            return
        delivery = json.loads(body)  # {"conversation_id", "user_id", "reply": {"id", "text", "buttons", ...}}
        print(delivery["conversation_id"], delivery["reply"]["author"], delivery["reply"]["text"])
        self.send_response(204)  # any 2xx: delivered; 429/5xx: the bot retries; other 4xx: given up
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 9000), Callback).serve_forever()
