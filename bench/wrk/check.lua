-- wrk script: online checks (POST /api/v1/check) by already activated devices.
--
-- $BENCH_REQUESTS holds one device-signed refresh request per line (the body the SDK's online
-- check sends); a check may be repeated, so the threads cycle through all of them.
-- $BENCH_API_KEY is the product's API key (the X-Api-Key header).

dofile(os.getenv("BENCH_WRK_DIR") .. "/bodies.lua")  -- defines setup() (thread numbers) and read_bodies()

function init(args)
  bodies = read_bodies()
  index = (tid or 0) * 7
  headers = { ["Content-Type"] = "application/json", ["X-Api-Key"] = os.getenv("BENCH_API_KEY") }
end

function request()
  index = index + 1
  return wrk.format("POST", "/api/v1/check", headers, bodies[((index - 1) % #bodies) + 1])
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")  -- defines done(): the JSON summary line
