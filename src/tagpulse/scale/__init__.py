"""Scale-out: collectors as workers on a Redis queue (:mod:`.queue`, :mod:`.worker`)."""
