-- wrk script: like location-updates.lua, each report under its own driver's bearer token. TOKENS names a
-- file of "driverId token" lines (Benchmarks/http/bench-auth writes it); each request picks a line at
-- random and reports for that driver with its token.
local headers = { ["Content-Type"] = "application/json" }
local drivers = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed * 7919)
  for line in io.lines(os.getenv("TOKENS")) do
    local id, token = line:match("^(%S+) (%S+)$")
    drivers[#drivers + 1] = { id = id, authorization = "Bearer " .. token }
  end
end

function request()
  local driver = drivers[math.random(1, #drivers)]
  local lat = 37.42 + math.random() * 0.28
  local lng = 126.76 + math.random() * 0.42
  local body = string.format('{"lat":%.6f,"lng":%.6f}', lat, lng)
  headers["Authorization"] = driver.authorization
  return wrk.format("PUT", "/v1/drivers/" .. driver.id .. "/location", headers, body)
end
