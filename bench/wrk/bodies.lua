-- Shared by the bench scripts that post pre-made requests: each thread learns its number (tid),
-- and read_bodies() loads $BENCH_REQUESTS, one request body per line.

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function read_bodies()
  local bodies = {}
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    bodies[#bodies + 1] = line .. "\n"
  end
  return bodies
end
