-- wrk script: heartbeats to a floating server (POST /floating/v1/heartbeat).
--
-- $BENCH_REQUESTS holds one signed heartbeat per line, in the order they may be sent: a lease
-- accepts only its next sequence number, and each lease's heartbeats are many lines apart. Thread
-- t sends lines t, t+T, t+2T, ... (T = $BENCH_THREADS), so no heartbeat overtakes an earlier one
-- of the same lease while far fewer requests are in flight than there are leases.

dofile(os.getenv("BENCH_WRK_DIR") .. "/bodies.lua")  -- defines setup() (thread numbers) and read_bodies()

function init(args)
  bodies = read_bodies()
  step = tonumber(os.getenv("BENCH_THREADS"))
  index = (tid or 0) + 1
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  local body = bodies[((index - 1) % #bodies) + 1]
  index = index + step
  return wrk.format("POST", "/floating/v1/heartbeat", headers, body)
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")  -- defines done(): the JSON summary line
