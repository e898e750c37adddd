-- wrk script: POST /v1/rides, each request from a new rider (so none is refused as "already riding"),
-- pickups spread over Seoul.
local headers = { ["Content-Type"] = "application/json" }
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  counter = 0
  math.randomseed(tid * 104729)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"riderId":"t%d-%d-%d","pickup":{"lat":%.6f,"lng":%.6f},"dropoff":{"lat":37.4979,"lng":127.0276}}',
    tid, os.time(), counter, 37.42 + math.random() * 0.28, 126.76 + math.random() * 0.42)
  return wrk.format("POST", "/v1/rides", headers, body)
end
