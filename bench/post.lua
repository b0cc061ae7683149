-- post.lua -- wrk script of bench/compare.sh: POSTs a body file with the
-- values of one key rewritten on every request (sg_event_id for SendGrid,
-- messageId for /v1/batch) so that every call is distinct, and counts the
-- "accepted" of each 200 (or, for a server that answers without it, the
-- events of the body).
-- Arguments: BODY_FILE KEY|- EVENTS_PER_BODY ["Header: value"]...
-- SPDX-License-Identifier: MIT

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local pieces = {}
local headers = {
   ["Content-Type"] = "application/json",
   -- Basic auth, user "wk_bench", no password: the write key
   ["Authorization"] = "Basic d2tfYmVuY2g6",
}
local n = 0
local per_body = 0
ok, other, accepted = 0, 0, 0

function init(args)
   local f = assert(io.open(args[1], "r"))
   local body = f:read("*a")
   f:close()
   local key = args[2]
   per_body = tonumber(args[3]) or 0
   for i = 4, #args do
      local k, v = args[i]:match("^([^:]+):%s*(.*)$")
      if k then headers[k] = v end
   end
   if key == nil or key == "-" then
      pieces = { body }
      return
   end
   -- split around every value of the key
   local pos = 1
   local pat = '"' .. key .. '"%s*:%s*"[^"]*"'
   while true do
      local s, e = body:find(pat, pos)
      if s == nil then break end
      local open = body:find('"', body:find(":", s + #key + 2) + 1)
      table.insert(pieces, body:sub(pos, open))
      pos = e
   end
   table.insert(pieces, body:sub(pos))
end

function request()
   n = n + 1
   if #pieces == 1 then
      return wrk.format("POST", nil, headers, pieces[1])
   end
   local parts = {}
   local tag = "b" .. id .. "-" .. n .. "-"
   for i = 1, #pieces - 1 do
      parts[#parts + 1] = pieces[i]
      parts[#parts + 1] = tag .. i
   end
   parts[#parts + 1] = pieces[#pieces]
   return wrk.format("POST", nil, headers, table.concat(parts))
end

function response(status, hdrs, body)
   if status == 200 then
      ok = ok + 1
      local a = body:match('"accepted":%s*(%d+)')
      accepted = accepted + (tonumber(a) or per_body)
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local o, x, a = 0, 0, 0
   for _, t in ipairs(threads) do
      o = o + t:get("ok")
      x = x + t:get("other")
      a = a + t:get("accepted")
   end
   local secs = summary.duration / 1e6
   io.write(string.format("BENCH requests_ok=%d requests_other=%d accepted=%d seconds=%.2f" ..
                          " errors=%d\n", o, x, a, secs,
                          summary.errors.connect + summary.errors.read + summary.errors.write +
                          summary.errors.timeout))
   io.write(string.format("BENCH p50_us=%d p99_us=%d max_us=%d\n", latency:percentile(50),
                          latency:percentile(99), latency.max))
end
