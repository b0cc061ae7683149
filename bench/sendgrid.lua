-- sendgrid.lua -- wrk script for bench/run.sh: POSTs the SendGrid Event
-- Webhook body given as the script argument (8 events, 7 mapped), with
-- fresh sg_event_ids on every request so that every call is distinct.
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
ok, other, accepted = 0, 0, 0

function init(args)
   local f = assert(io.open(args[1], "r"))
   local body = f:read("*a")
   f:close()
   -- split around every sg_event_id value
   local pos = 1
   for s, e in function() return body:find('"sg_event_id"%s*:%s*"[^"]*"', pos) end do
      local open = body:find('"', body:find(":", s) + 1)
      table.insert(pieces, body:sub(pos, open))
      pos = e
      if pos >= #body then break end
   end
   table.insert(pieces, body:sub(pos))
end

function request()
   n = n + 1
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
      accepted = accepted + tonumber(body:match('"accepted":(%d+)') or 0)
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
   io.write(string.format("BENCH requests_ok=%d requests_other=%d accepted=%d seconds=%.2f\n",
                          o, x, a, secs))
   io.write(string.format("BENCH p50_us=%d p99_us=%d max_us=%d\n", latency:percentile(50),
                          latency:percentile(99), latency.max))
end
