-- wrk script: a different valid token on every request, cycling through TOKENS_FILE from
-- index START (0 unless given), so that a run can begin where the previous one stopped.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
local next_index = tonumber(os.getenv("START") or "0") % #tokens

request = function()
  next_index = next_index % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[next_index] })
end
