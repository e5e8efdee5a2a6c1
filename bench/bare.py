"""The baseline: a bare Flask app serving the same routes and bodies as the mock, with no state behind them."""

from __future__ import annotations

import json
import os

from flask import Flask, Response

app = Flask(__name__)
TYPE = "application/json;charset=utf-8"


def body(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status=status, content_type=TYPE)


@app.delete("/crm/<version>/<module>/<record_id>/Attachments/<attachment_id>")
def delete_attachment(version: str, module: str, record_id: str, attachment_id: str) -> Response:
    return body({"data": [{"code": "SUCCESS", "details": {"id": attachment_id}, "message": "record deleted",
                           "status": "success"}]})


@app.get("/crm/<version>/<module>/<record_id>/Attachments")
def list_attachments(version: str, module: str, record_id: str) -> Response:
    return body({"data": [{"id": "1"}], "info": {"per_page": 10, "next_page_token": None, "count": 1, "page": 1,
                                                 "previous_page_token": None, "page_token_expiry": None,
                                                 "more_records": False}})


@app.post("/crm/<version>/<module>/<record_id>/Attachments")
def upload(version: str, module: str, record_id: str) -> Response:
    return body({"data": [{"code": "SUCCESS", "details": {"id": "1"}, "message": "attachment uploaded successfully",
                           "status": "success"}]})


@app.get("/crm/<version>/org")
def org(version: str) -> Response:
    return body({"org": [{"id": "1"}]})


# The records rows' bodies: the mock's own answers to the same requests (one record, one 200-record page),
# captured by bench/run.py and passed in a JSON file; each request serializes its body again, as a handler
# building JSON would. Without the file, a small stand-in (the records rows always pass one).
RECORDS = json.loads(open(os.environ["BARE_RECORDS"], encoding="utf-8").read()) if os.environ.get(
    "BARE_RECORDS") else {"record": {"data": [{"id": "1"}]}, "page": {"data": [{"id": "1"}], "info": {}}}


@app.get("/crm/<version>/Leads/<record_id>")
def get_record(version: str, record_id: str) -> Response:
    return body(RECORDS["record"])


@app.get("/crm/<version>/Leads")
def list_records(version: str) -> Response:
    return body(RECORDS["page"])
