-- wrk script of the serving benchmark: random users from USERS (a file of ids), an optional bearer
-- KEY, and an offered rate RATE (requests per second over all connections; 0: as fast as possible)
-- paced per connection with wrk's delay().
local users = {}
for line in io.lines(os.getenv("USERS")) do users[#users + 1] = line end
local key = os.getenv("KEY")
local rate = tonumber(os.getenv("RATE") or "0")
local connections = tonumber(os.getenv("CONNECTIONS") or "16")
local counter = 0
request = function()
  counter = counter + 1
  local u = users[(counter * 7919 + math.random(#users)) % #users + 1]
  local headers = {}
  if key and key ~= "" then headers["Authorization"] = "Bearer " .. key end
  return wrk.format("GET", "/v1/users/" .. u .. "/recommendations?k=30", headers)
end
delay = function()
  if rate <= 0 then return 0 end
  return 1000 * connections / rate
end
