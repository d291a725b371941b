-- wrk: client_credentials token requests. TOKEN_PATH and TOKEN_BODY come from the environment.
-- TOKEN_TARGETS (optional, "host:port host:port ..."): wrk's threads are spread over these
-- servers in turn (thread i connects to target i mod n, with its share of the connections)
-- instead of the URL's host; the URL still gives the Host header.
wrk.method = "POST"
wrk.path = os.getenv("TOKEN_PATH")
wrk.body = os.getenv("TOKEN_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local targets = {}
for target in string.gmatch(os.getenv("TOKEN_TARGETS") or "", "%S+") do
  local host, port = target:match("^(.+):(%d+)$")
  table.insert(targets, wrk.lookup(host, port)[1])
end
local threads = {}
function setup(thread)
  if #targets > 0 then thread.addr = targets[(#threads % #targets) + 1] end
  table.insert(threads, thread)
end

-- Counted per thread (a global, so that done() can read it from each thread's state).
failures = 0
function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("non-200: %d\n", total))
end
