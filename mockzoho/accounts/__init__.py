"""The Zoho accounts (OAuth) server: token, revoke and a demo authorize page."""
