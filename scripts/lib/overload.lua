-- wrk script for scripts/overload-test: sends MODE=report (PUT location of a random driver among
-- DRIVERS) or MODE=ride (POST /v1/rides for a new rider each time), and counts the answers by status,
-- and the 503s that carried Retry-After. Prints one line per status at the end: "status <code> <n>".
local mode = os.getenv("MODE") or "report"
local drivers = tonumber(os.getenv("DRIVERS") or "2000")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  retry_after = 0
  sequence = 0
  math.randomseed(id * 7919)
end

function request()
  sequence = sequence + 1
  local lat = 37.50 + math.random() * 0.1
  local lng = 126.90 + math.random() * 0.15
  if mode == "ride" then
    local body = string.format(
      '{"riderId":"ov-%d-%d","pickup":{"lat":%.6f,"lng":%.6f},"dropoff":{"lat":37.4979,"lng":127.0276}}',
      id, sequence, lat, lng)
    return wrk.format("POST", "/v1/rides", { ["Content-Type"] = "application/json" }, body)
  end
  local body = string.format('{"lat":%.6f,"lng":%.6f}', lat, lng)
  return wrk.format("PUT", "/v1/drivers/d" .. math.random(1, drivers) .. "/location",
    { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["Retry-After"] ~= nil and string.find(body, '"overloaded"') then
    retry_after = retry_after + 1
  end
end

function done(summary, latency, requests)
  local totals = {}
  local retried = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
    retried = retried + thread:get("retry_after")
  end
  for status, count in pairs(totals) do
    io.write(string.format("status %d %d\n", status, count))
  end
  io.write(string.format("retry_after %d\n", retried))
  io.write(string.format("max_latency_ms %.1f\n", latency.max / 1000))
  io.write(string.format("p99_latency_ms %.1f\n", latency:percentile(99) / 1000))
  io.write(string.format("p50_latency_ms %.1f\n", latency:percentile(50) / 1000))
end
