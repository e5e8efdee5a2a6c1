-- A third each: upload a small file, list a record's attachments, delete a distinct attachment.
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
  boundary = "mockzohobench"
  upload_body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.txt\"\r\n" ..
                "Content-Type: text/plain\r\n\r\n" .. string.rep("x", 1024) .. "\r\n--" .. boundary .. "--\r\n"
end
function request()
  local n = start + offset + counter * step
  counter = counter + 1
  local record = first_record + math.floor(n / per_record)
  local auth = {["Authorization"] = "Zoho-oauthtoken " .. token}
  local kind = n % 3
  if kind == 0 then
    auth["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    return wrk.format("POST", string.format("/crm/v8/Leads/%d/Attachments", first_record), auth, upload_body)
  elseif kind == 1 then
    return wrk.format("GET", string.format("/crm/v8/Leads/%d/Attachments?fields=id&per_page=10", record), auth)
  end
  return wrk.format("DELETE", string.format("/crm/v8/Leads/%d/Attachments/%d", record, first + n), auth)
end
