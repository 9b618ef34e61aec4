-- One wrk script for every scenario, chosen by its arguments (after "--"):
--   paths FILE          GET each path in FILE in turn (one path a line)
--   products FILE       POST {"name": ...} to each path in FILE in turn
--   teams PREFIX        POST a team with a new ODS code every request (PREFIX keeps runs apart)
--   teams-cached CODE   POST a team with the same ODS code every request
-- Every request carries the api key (env BENCH_API_KEY) and "version: 1".
-- done() prints one JSON line, prefixed with "RESULT ", for the harness to read.

local thread_count = 0

function setup(thread)
   thread:set("thread_id", thread_count)
   thread_count = thread_count + 1
end

local mode, paths, next_index, counter, prefix, cached_code
local headers = {}

function init(args)
   mode = args[1]
   headers["apikey"] = os.getenv("BENCH_API_KEY")
   headers["version"] = "1"
   if mode == "paths" or mode == "products" then
      paths = {}
      for line in io.lines(args[2]) do
         paths[#paths + 1] = line
      end
      -- Threads start at different places so they do not ask for the same rows in step.
      next_index = (thread_id * 7919) % #paths
   elseif mode == "teams" then
      prefix = args[2]
   elseif mode == "teams-cached" then
      cached_code = args[2]
   else
      error("unknown mode " .. tostring(mode))
   end
   if mode ~= "paths" then
      headers["Content-Type"] = "application/json"
   end
   counter = 0
end

local function next_path()
   next_index = next_index % #paths + 1
   return paths[next_index]
end

function request()
   counter = counter + 1
   if mode == "paths" then
      return wrk.format("GET", next_path(), headers, nil)
   elseif mode == "products" then
      return wrk.format("POST", next_path(), headers, '{"name": "Bench product ' .. thread_id .. '-' .. counter .. '"}')
   end
   local code = cached_code or string.format("%sT%dN%d", prefix, thread_id, counter)
   return wrk.format("POST", "/ProductTeam", headers, '{"name": "Bench Team", "ods_code": "' .. code .. '"}')
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "status_errors": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      e.status, e.connect + e.read + e.write + e.timeout))
end
