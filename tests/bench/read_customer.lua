-- wrk: GET /api/v1/customers/{id} for random ids of the demo data.
local max_id = tonumber(os.getenv("BENCH_CUSTOMERS") or "1000000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/customers/" .. math.random(1, max_id))
end
