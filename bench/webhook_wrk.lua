-- wrk script for bench/webhook_load.py: plays pre-signed, distinct webhook requests, each once.
-- File lines: TIMESTAMP \t SIGNATURE \t BODY. Prints one JSON line of results at the end.
local requests, next_index = {}, 0

function init(args)
  for line in io.lines(args[1]) do
    local stamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", "/webhook/generic", {
      ["Content-Type"] = "application/json", ["X-Bots-Timestamp"] = stamp, ["X-Bots-Signature"] = signature,
    }, body)
  end
end

function request()
  next_index = next_index + 1
  if next_index > #requests then
    wrk.thread:stop()
    next_index = #requests  -- never sent: the thread stops before this request goes out
  end
  return requests[next_index]
end

function done(summary, latency, requests_)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
