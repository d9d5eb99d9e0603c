-- wrk script for the bare ASGI "hello" peer: plain GETs, and the shared JSON summary line.
wrk.method = "GET"
wrk.path = "/"

dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")  -- defines done(): the JSON summary line
