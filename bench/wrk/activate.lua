-- wrk script: offline activation uploads to the portal (POST /activate, multipart/form-data).
--
-- Every request must be distinct (a request answered once is refused as a replay), so each
-- thread posts its own share of the pre-generated requests in $BENCH_REQUESTS (one envelope per
-- line; thread t of $BENCH_THREADS takes lines t, t+n, t+2n, ...). The form asks for the bare
-- file (download=1), as a script would. Running out of requests wraps around, and the replays
-- then show up as non-2xx answers (errors) in the summary.

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local boundary = "----wrk-portal-bench-boundary-5d3b1c"
local head = "--" .. boundary .. "\r\n" ..
  'Content-Disposition: form-data; name="download"\r\n\r\n1\r\n' ..
  "--" .. boundary .. "\r\n" ..
  'Content-Disposition: form-data; name="file"; filename="ls_activation.req"\r\n' ..
  "Content-Type: application/octet-stream\r\n\r\n"
local tail = "\n\r\n--" .. boundary .. "--\r\n"
local headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local mine = tid or 0
  bodies = {}
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    if line_number % threads == mine then
      bodies[#bodies + 1] = line
    end
    line_number = line_number + 1
  end
  index = 0
end

repeats = 0

function request()
  index = index + 1
  if index > #bodies then
    repeats = repeats + 1
  end
  local body = bodies[((index - 1) % #bodies) + 1]
  return wrk.format("POST", "/activate", headers, head .. body .. tail)
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")  -- defines done(): the JSON summary line
