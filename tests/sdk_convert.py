"""Zoho's v8 SDK converting a lead (ConvertLeadOperations) against a mockzoho: `python sdk_convert.py URL FOLDER`.
Run in a process of its own by tests/test_stubs.py, since the SDK's Initializer is global to a process."""

import json
import sys

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.api.logger import Logger
from zohocrmsdk.src.com.zoho.crm.api import convert_lead
from zohocrmsdk.src.com.zoho.crm.api.dc import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

url, folder = sys.argv[1], sys.argv[2]
Initializer.initialize(environment=DataCenter.Environment(url, f"{url}/oauth/v2/token", url),
                       token=OAuthToken(client_id="1000.MOCKZOHOCLIENT", client_secret="mockzoho-secret",
                                        refresh_token="1000.mock.refresh.full"),
                       store=FileStore(file_path=f"{folder}/tokens.csv"), sdk_config=SDKConfig(),
                       resource_path=folder,
                       logger=Logger.get_instance(level=Logger.Levels.INFO, file_path=f"{folder}/sdk.log"))
converter = convert_lead.LeadConverter()
converter.set_overwrite(True)
body = convert_lead.BodyWrapper()
body.set_data([converter])
response = convert_lead.ConvertLeadOperations(2883756000000261075).convert_lead(body)
print(response.get_status_code())
for entry in response.get_object().get_data():
    print(json.dumps([type(entry).__name__, entry.get_code().get_value(), entry.get_message().get_value(),
                      {k: v.get_id() for k, v in entry.get_details().items() if v is not None}]))
