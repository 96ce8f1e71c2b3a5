-- wrk: POST /api/v1/orders, new orders bought with real customers' phones, so
-- each one is inserted, bound, and its customer's figures recounted.
local phones = {}
for line in io.lines(os.getenv("BENCH_PHONES")) do phones[#phones + 1] = line end
local thread_id = 0
local counter = 0
setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local p = phones[math.random(1, #phones)]
  local body = string.format('{"platform":"bench","external_id":"W%d-%d-%d","buyer_phone":"%s",' ..
    '"amount_cents":5990,"paid_at":"2026-11-20T10:00:00Z","items":[{"sku":"B-101",' ..
    '"name":"纯棉短袜","category":"basics","quantity":3,"price_cents":1990}]}',
    tid or 0, os.time(), counter, p)
  return wrk.format(nil, nil, nil, body)
end
