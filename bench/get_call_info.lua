-- wrk script: POST get_call_info for one live call and check every answer.
-- Env: V4_PATH (path + query with a valid admin UserSig), CALL_ID.

local path = os.getenv("V4_PATH")
wrk.method = "POST"
wrk.body = '{"CallId":"' .. os.getenv("CALL_ID") .. '"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  bad = 0
end

function request()
  return wrk.format(nil, path)
end

-- A plain substring search is cheap enough to run on every answer.
function response(status, headers, body)
  if status == 200 and string.find(body, '"ErrorCode":0,', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_bad = total_bad + t:get("bad")
  end
  io.write(string.format("answers with ErrorCode 0: %d\n", total_ok))
  io.write(string.format("other answers: %d\n", total_bad))
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
end
