-- wrk script: GET /v1/drivers/nearby at random points of Seoul's box, RADIUS metres (default 3000),
-- the 10 nearest.
local radius = os.getenv("RADIUS") or "3000"

function request()
  local lat = 37.42 + math.random() * 0.28
  local lng = 126.76 + math.random() * 0.42
  return wrk.format("GET", string.format("/v1/drivers/nearby?lat=%.6f&lng=%.6f&radiusMeters=%s&limit=10", lat, lng, radius))
end
