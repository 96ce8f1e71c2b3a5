-- wrk: POST /api/v1/rewards/{id}/redeem for random customers that hold points.
local n = tonumber(os.getenv("BENCH_POINT_CUSTOMERS") or "20000")
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, nil, nil, '{"customer_id":' .. math.random(1, n) .. '}')
end
