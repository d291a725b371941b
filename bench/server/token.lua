-- wrk: client_credentials token requests. TOKEN_PATH and TOKEN_BODY come from the environment.
wrk.method = "POST"
wrk.path = os.getenv("TOKEN_PATH")
wrk.body = os.getenv("TOKEN_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-200: %d\n", failures))
end
