-- wrk script for one bench route. Env: BENCH_METHOD (default GET),
-- BENCH_TOKEN (sent as a bearer token), BENCH_BODY (JSON body).
wrk.method = os.getenv("BENCH_METHOD") or "GET"

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
