"""Scale-out: Spark jobs over the lake (:mod:`.spark`) and collectors as workers on a Redis
queue (:mod:`.queue`, :mod:`.worker`); see docs/scaling.md."""
