"""Send one customer message to the bot's generic webhook and print the replies (Python 3, stdlib only).

    BOTS_WEBHOOK_SECRET=... python examples/generic_webhook_client.py "where is my order DS100234?"

Environment: BOTS_URL (default http://127.0.0.1:8080/webhook/generic), BOTS_WEBHOOK_SECRET (required).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def signed_request(url: str, secret: str, message: dict) -> urllib.request.Request:
    """X-Bots-Signature = "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    body = json.dumps(message, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Bots-Timestamp": timestamp,
               "X-Bots-Signature": f"sha256={signature}"}
    return urllib.request.Request(url, data=body, headers=headers, method="POST")


def main() -> None:
    url = os.environ.get("BOTS_URL", "http://127.0.0.1:8080/webhook/generic")
    secret = os.environ["BOTS_WEBHOOK_SECRET"]
    message = {
        "id": uuid.uuid4().hex,  # keep it when you retry: a resent id is processed once
        "conversation_id": "order-chat-1001",
        "user": {"id": "customer-42", "name": "Li Lei"},
        "text": sys.argv[1] if len(sys.argv) > 1 else "你好",
        "locale": "zh-CN",
    }
    try:
        with urllib.request.urlopen(signed_request(url, secret, message), timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:  # 4xx: the JSON body says what was wrong
        sys.exit(f"{error.code}: {error.read().decode()}")
    for reply in answer.get("replies", []):
        print(reply["text"])
        for button in reply["buttons"]:
            print(f"  [{button['label']}] -> sends {button['value']!r}")


if __name__ == "__main__":
    main()
