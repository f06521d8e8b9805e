#!/usr/bin/env bash
# Send one signed message to the generic webhook with curl and openssl.
#   BOTS_WEBHOOK_SECRET=... examples/generic_webhook_curl.sh "where is my order DS100234?"
set -euo pipefail
url="${BOTS_URL:-http://127.0.0.1:8080/webhook/generic}"
text="${1:-你好}"
body=$(printf '{"id":"%s","conversation_id":"order-chat-1001","user":{"id":"customer-42"},"text":"%s","locale":"zh-CN"}' \
    "msg-$(date +%s%N)" "$text")
ts=$(date +%s)
sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$BOTS_WEBHOOK_SECRET" -hex | sed 's/^.* //')
curl -sS -X POST "$url" -H 'Content-Type: application/json' \
    -H "X-Bots-Timestamp: $ts" -H "X-Bots-Signature: sha256=$sig" --data-binary "$body"
echo
