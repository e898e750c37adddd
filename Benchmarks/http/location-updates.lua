-- wrk script: PUT /v1/drivers/{id}/location for random drivers among DRIVERS (default 100000), at
-- random points of Seoul's box (37.42-37.70 N, 126.76-127.18 E). PIPELINE=N (default 1) sends N requests
-- at a time on each connection (HTTP/1.1 pipelining), as the load test's drivers do, so that wrk's own
-- cost per request (a syscall per request otherwise) weighs less on the shared cores.
local drivers = tonumber(os.getenv("DRIVERS") or "100000")
local pipeline = tonumber(os.getenv("PIPELINE") or "1")
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed * 7919)
end

local function one()
  local id = math.random(1, drivers)
  local lat = 37.42 + math.random() * 0.28
  local lng = 126.76 + math.random() * 0.42
  local body = string.format('{"lat":%.6f,"lng":%.6f}', lat, lng)
  return wrk.format("PUT", "/v1/drivers/d" .. id .. "/location", headers, body)
end

function request()
  if pipeline <= 1 then return one() end
  local batch = {}
  for i = 1, pipeline do batch[i] = one() end
  return table.concat(batch)
end
