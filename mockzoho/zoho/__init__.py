"""The engine shared by Zoho CRM and Bigin: products, scopes, auth, errors, models and routes."""
