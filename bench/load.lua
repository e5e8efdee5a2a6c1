-- The requests of one wrk run. MODE=delete: each request deletes a different attachment (thread t takes
-- attachments START + t, START + t + THREADS, ...); MODE=unknown: deletes of attachments that do not exist,
-- on the first generated record (one that does); MODE=mixed: a third each of small uploads, listings and deletes.
-- MODE=record: GET one lead each (LEADS records from FIRST_LEAD on, a different one each request, spread over all);
-- MODE=page: GET a 200-record page of leads (pages 1 to 10, in turn); MODE=insert: POST 100 new leads, the body
-- read from BODY_FILE, where each `{n}` becomes the request's own number (so every email is new).
-- CLOSE=1: every request says `Connection: close`, so each has a connection of its own. ROUTE: unknown deletes go
-- to ROUTE .. id instead (a peer's own route).
counter = 0  -- a global, for done() to read from each thread
local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
-- The ids this run took: its threads need not send as many requests each, and the next run must start past
-- the ids of the busiest.
function done(summary, latency, requests)
  local most = 0
  for _, thread in ipairs(threads) do most = math.max(most, thread:get("counter")) end
  io.write(string.format("ids taken: %d\n", most * #threads))
end
function init(args)
  mode = os.getenv("MODE")
  first = tonumber(os.getenv("FIRST_ID"))
  start = tonumber(os.getenv("START"))
  per_record = tonumber(os.getenv("PER_RECORD"))
  first_record = tonumber(os.getenv("FIRST_RECORD"))
  step = tonumber(os.getenv("THREADS"))
  token = os.getenv("TOKEN")
  close = os.getenv("CLOSE") == "1"
  route = os.getenv("ROUTE") or ""
  first_lead = tonumber(os.getenv("FIRST_LEAD") or "0")
  leads = tonumber(os.getenv("LEADS") or "1")
  if mode == "insert" then
    local file = io.open(os.getenv("BODY_FILE"), "r")
    insert_body = file:read("*a")
    file:close()
  end
  boundary = "mockzohobench"
  upload_body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.txt\"\r\n" ..
                "Content-Type: text/plain\r\n\r\n" .. string.rep("x", 1024) .. "\r\n--" .. boundary .. "--\r\n"
end
function request()
  local n = start + offset + counter * step
  counter = counter + 1
  local record = first_record + math.floor(n / per_record)
  local headers = {["Authorization"] = "Zoho-oauthtoken " .. token}
  if close then headers["Connection"] = "close" end
  local id = first + n
  if mode == "record" then
    -- 7919 is prime and does not divide LEADS: successive requests land far apart, every lead in turn.
    return wrk.format("GET", string.format("/crm/v8/Leads/%d", first_lead + (n * 7919) % leads), headers)
  elseif mode == "page" then
    return wrk.format("GET", string.format("/crm/v8/Leads?fields=Last_Name,Email,Company&per_page=200&page=%d",
                                           n % 10 + 1), headers)
  elseif mode == "insert" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/crm/v8/Leads", headers, (string.gsub(insert_body, "{n}", tostring(n))))
  end
  if mode == "unknown" then
    -- A record past the generated ones would be a different error (an unknown record), answered earlier.
    id, record = 900000000000000 + n, first_record
    if route ~= "" then return wrk.format("DELETE", string.format("%s%d", route, id), headers) end
  end
  if mode == "mixed" and n % 3 == 0 then
    headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    return wrk.format("POST", string.format("/crm/v8/Leads/%d/Attachments", first_record), headers, upload_body)
  elseif mode == "mixed" and n % 3 == 1 then
    return wrk.format("GET", string.format("/crm/v8/Leads/%d/Attachments?fields=id&per_page=10", record), headers)
  end
  return wrk.format("DELETE", string.format("/crm/v8/Leads/%d/Attachments/%d", record, id), headers)
end
