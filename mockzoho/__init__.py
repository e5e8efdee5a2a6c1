"""mockzoho: a faithful, stateful mock server of the Zoho CRM and Bigin REST APIs."""

__version__ = "0.1.0"
