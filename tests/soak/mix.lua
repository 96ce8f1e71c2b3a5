-- wrk script of the soak (tests/soak/run.sh): one wrk process per kind of
-- request, the kind in SOAK_KIND. Each thread counts the answers by status;
-- done() prints them as "status CODE COUNT" lines for run.sh to add up.
--   read      GET /api/v1/customers/{id}, random ids
--   search    GET /api/v1/customers?q= a phone prefix or a customer's name
--   list      GET /api/v1/customers?limit=50, following next_cursor
--   order     POST /api/v1/orders, new orders (unique numbers) by real phones
--   points    POST /api/v1/customers/{id}/points, a grant of 1 to 20
--   tag       POST /api/v1/customers/{id}/tags, one of the soak's tags
--   preview   POST /api/v1/audiences/preview, a few rules
--   dryrun    POST /api/v1/sops/dry-run, an unsaved SOP
--   analytics GET /api/v1/analytics/{overview,repurchase,channels,cohorts,funnel}
--   login     POST /api/v1/auth/login (no token), the soak users in turn,
--             each connection at most one a second (PBKDF2 is the cost)
local kind = os.getenv("SOAK_KIND") or "read"
local max_id = tonumber(os.getenv("SOAK_CUSTOMERS") or "1000")
local run_id = os.getenv("SOAK_RUN") or tostring(os.time())
local tag_ids = {}
for t in string.gmatch(os.getenv("SOAK_TAGS") or "", "%d+") do tag_ids[#tag_ids + 1] = t end
local users = {}
for u in string.gmatch(os.getenv("SOAK_USERS") or "", "[^,]+") do users[#users + 1] = u end
local password = os.getenv("SOAK_PASSWORD") or ""

local function lines(file)
  local t = {}
  if file and file ~= "" then
    for line in io.lines(file) do t[#t + 1] = line end
  end
  return t
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- the main state: one entry per thread, read back in done()
local threads = {}
local nthreads = 0
setup = function(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  threads[#threads + 1] = thread
end

local phones, names
-- wrk.format uses the headers given instead of wrk.headers (-H): merged here
local json = {}
init = function(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  if kind == "search" or kind == "order" then phones = lines(os.getenv("SOAK_PHONES")) end
  if kind == "search" then names = lines(os.getenv("SOAK_NAMES")) end
  statuses = {}
  for k, v in pairs(wrk.headers) do json[k] = v end
  json["Content-Type"] = "application/json"
end

local counter = 0
local cursor = nil
local previews = {
  '{"rule":{"field":"gender","op":"=","value":"f"}}',
  '{"rule":{"field":"order_count","op":">=","value":3}}',
  '{"rule":{"all":[{"field":"total_spent_cents","op":">=","value":50000},{"field":"days_since_last_order","op":"<=","value":90}]}}',
  '{"rule":{"any":[{"field":"points_balance","op":">","value":500},{"field":"birthday_month","op":"=","value":6}]}}',
}
local dryrun = '{"name":"soak dry run","trigger":{"type":"event","event":"checkin"},' ..
  '"audience":{"field":"gender","op":"=","value":"f"},' ..
  '"actions":[{"type":"task","assignee":"owner","text":"call {{name}}"}]}'
local analytics = {
  "/api/v1/analytics/overview",
  "/api/v1/analytics/repurchase",
  "/api/v1/analytics/channels",
  "/api/v1/analytics/cohorts",
  "/api/v1/analytics/funnel",
}

request = function()
  counter = counter + 1
  if kind == "read" then
    return wrk.format("GET", "/api/v1/customers/" .. math.random(1, max_id))
  elseif kind == "search" then
    if counter % 2 == 0 then
      local p = phones[math.random(1, #phones)]
      return wrk.format("GET", "/api/v1/customers?limit=20&q=" .. string.sub(p, 1, 7))
    end
    return wrk.format("GET", "/api/v1/customers?limit=20&q=" .. urlencode(names[math.random(1, #names)]))
  elseif kind == "list" then
    local p = "/api/v1/customers?limit=50"
    if cursor then p = p .. "&cursor=" .. urlencode(cursor) end
    return wrk.format("GET", p)
  elseif kind == "order" then
    local body = string.format('{"platform":"soak","external_id":"S%s-%d-%d","buyer_phone":"%s",' ..
      '"amount_cents":5990,"paid_at":"2026-11-20T10:00:00Z","items":[{"sku":"B-101",' ..
      '"name":"纯棉短袜","category":"basics","quantity":3,"price_cents":1990}]}',
      run_id, tid or 0, counter, phones[math.random(1, #phones)])
    return wrk.format("POST", "/api/v1/orders", json, body)
  elseif kind == "points" then
    return wrk.format("POST", "/api/v1/customers/" .. math.random(1, max_id) .. "/points", json,
      string.format('{"delta":%d,"reason":"soak"}', math.random(1, 20)))
  elseif kind == "tag" then
    return wrk.format("POST", "/api/v1/customers/" .. math.random(1, max_id) .. "/tags", json,
      '{"tag_ids":[' .. tag_ids[math.random(1, #tag_ids)] .. ']}')
  elseif kind == "preview" then
    return wrk.format("POST", "/api/v1/audiences/preview", json, previews[math.random(1, #previews)])
  elseif kind == "dryrun" then
    return wrk.format("POST", "/api/v1/sops/dry-run", json, dryrun)
  elseif kind == "analytics" then
    return wrk.format("GET", analytics[math.random(1, #analytics)])
  elseif kind == "login" then
    local u = users[(counter + (tid or 0)) % #users + 1]
    return wrk.format("POST", "/api/v1/auth/login", json,
      string.format('{"username":"%s","password":"%s"}', u, password))
  end
  error("unknown SOAK_KIND " .. kind)
end

if kind == "login" then
  delay = function() return 1000 end
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if kind == "list" then
    if status == 200 then
      cursor = string.match(body, '"next_cursor":"([^"]*)"')
    else
      cursor = nil
    end
  end
end

done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
end
