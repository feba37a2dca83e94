"""The Falcon web process: REST API, webhooks, ops pages."""
