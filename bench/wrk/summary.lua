-- Shared by every bench script: the one JSON summary line bench_portal.py reads from wrk.
-- A script that keeps its threads in a global `threads` table has their `repeats` summed in.
function done(summary, latency, requests)
  local e = summary.errors
  local repeats = 0
  for _, thread in ipairs(threads or {}) do
    repeats = repeats + (thread:get("repeats") or 0)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"repeats":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max, repeats))
end
