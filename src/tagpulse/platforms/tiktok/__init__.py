"""TikTok web: the HTTP client (:mod:`.client`) and the payload parser (:mod:`.parse`)."""
