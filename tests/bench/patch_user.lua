-- wrk script: an authenticated JSON write (a user update, with its audit row).
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"display_name":"bench ' .. n .. '"}')
end
