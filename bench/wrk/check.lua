-- wrk script: online checks (POST /api/v1/check) by already activated devices.
--
-- $BENCH_REQUESTS holds one device-signed refresh request per line (the body the SDK's online
-- check sends); a check may be repeated, so the threads cycle through all of them.
-- $BENCH_API_KEY is the product's API key (the X-Api-Key header).

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    bodies[#bodies + 1] = line .. "\n"
  end
  index = (tid or 0) * 7
  headers = { ["Content-Type"] = "application/json", ["X-Api-Key"] = os.getenv("BENCH_API_KEY") }
end

function request()
  index = index + 1
  return wrk.format("POST", "/api/v1/check", headers, bodies[((index - 1) % #bodies) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
