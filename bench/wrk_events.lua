-- wrk script of the ingestion benchmark: POST /v1/events with a batch of BATCH plays of random
-- (user, song) pairs from USERS and SONGS, and a bearer KEY (write role).
local users, songs = {}, {}
for line in io.lines(os.getenv("USERS")) do users[#users + 1] = line end
for line in io.lines(os.getenv("SONGS")) do songs[#songs + 1] = line end
local batch = tonumber(os.getenv("BATCH") or "1000")
local parts = {}
for n = 1, batch do
  parts[n] = string.format('{"user":"%s","song":"%s","plays":1}', users[math.random(#users)], songs[math.random(#songs)])
end
local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
request = function()
  return wrk.format("POST", "/v1/events", {["Authorization"] = "Bearer " .. os.getenv("KEY"), ["Content-Type"] = "application/json"}, body)
end
