-- wrk script: POST /v1/chat/completions with a prompt no other request has, so no response
-- cache can answer. Words are letters only: a run of 9–10 digits would read as a phone
-- number and the router's P0 rule would refuse the call.
-- Environment: DOOR_MODEL (model named explicitly), DOOR_AUTH (the Authorization header),
-- DOOR_HEADERS (extra "name: value" headers separated by "|").
local model = os.getenv("DOOR_MODEL") or "sim-gpt-4o-mini"
local counter = 0
local letters = "abcdefghijklmnopqrstuvwxyz"

local function word(n)
  local s = ""
  repeat
    local d = n % 26
    s = s .. letters:sub(d + 1, d + 1)
    n = math.floor(n / 26)
  until n == 0
  return s
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("DOOR_AUTH") then wrk.headers["Authorization"] = os.getenv("DOOR_AUTH") end
for pair in string.gmatch(os.getenv("DOOR_HEADERS") or "", "[^|]+") do
  local name, value = pair:match("^%s*([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local salt = word(math.random(1, 2000000000))

request = function()
  counter = counter + 1
  local body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"summarise the ' ..
      word(counter) .. ' report for ' .. salt .. '"}]}'
  return wrk.format(nil, "/v1/chat/completions", nil, body)
end

-- wrk counts answers with a status of 400 or more in errors.status; the run script refuses
-- a run that had any, or a socket error.
done = function(summary)
  local e = summary.errors
  io.write(string.format("door-errors status=%d connect=%d read=%d write=%d timeout=%d\n",
    e.status, e.connect, e.read, e.write, e.timeout))
end
