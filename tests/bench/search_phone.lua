-- wrk: GET /api/v1/customers?q=<the first 7 digits of a real customer's phone>
local phones = {}
for line in io.lines(os.getenv("BENCH_PHONES")) do phones[#phones + 1] = line end
math.randomseed(os.time())
request = function()
  local p = phones[math.random(1, #phones)]
  return wrk.format("GET", "/api/v1/customers?limit=20&q=" .. string.sub(p, 1, 7))
end
