-- wrk script of `npm run bench`: each request takes the next path from the file named after `--`
-- (one path per line, each thread starting at its own offset), with the headers given by -H; at
-- the end it prints one line, `BENCHJSON {...}`, that scripts/bench/load.ts reads.
local paths = {}
local count = 0
local at = 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      count = count + 1
      paths[count] = line
    end
  end
  if count == 0 then error("no paths in " .. tostring(args[1])) end
  at = math.random(count) - 1
end

function request()
  at = at % count + 1
  return wrk.format("GET", paths[at])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
