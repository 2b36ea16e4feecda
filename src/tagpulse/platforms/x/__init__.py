"""X (Twitter) API v2: the HTTP client (:mod:`.client`) and the payload parser (:mod:`.parse`)."""
