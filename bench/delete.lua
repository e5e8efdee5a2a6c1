-- Each request deletes a different attachment: thread t takes ids first + t, first + t + threads, ...
local counter = 0
local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
function init(args)
  first = tonumber(os.getenv("FIRST_ID"))
  start = tonumber(os.getenv("START"))
  per_record = tonumber(os.getenv("PER_RECORD"))
  first_record = tonumber(os.getenv("FIRST_RECORD"))
  step = tonumber(os.getenv("THREADS"))
  token = os.getenv("TOKEN")
  unknown = os.getenv("UNKNOWN") == "1"
end
function request()
  local n = start + offset + counter * step
  counter = counter + 1
  local record = first_record + math.floor(n / per_record)
  local id = first + n
  if unknown then id = 900000000000000 + n end
  return wrk.format("DELETE", string.format("/crm/v8/Leads/%d/Attachments/%d", record, id),
                    {["Authorization"] = "Zoho-oauthtoken " .. token})
end
