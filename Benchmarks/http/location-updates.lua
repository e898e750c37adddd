-- wrk script: PUT /v1/drivers/{id}/location for random drivers among DRIVERS (default 100000), at
-- random points of Seoul's box (37.42-37.70 N, 126.76-127.18 E).
local drivers = tonumber(os.getenv("DRIVERS") or "100000")
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed * 7919)
end

function request()
  local id = math.random(1, drivers)
  local lat = 37.42 + math.random() * 0.28
  local lng = 126.76 + math.random() * 0.42
  local body = string.format('{"lat":%.6f,"lng":%.6f}', lat, lng)
  return wrk.format("PUT", "/v1/drivers/d" .. id .. "/location", headers, body)
end
