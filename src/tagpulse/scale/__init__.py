"""Scale-out: Spark jobs over the lake and distributed collection (see docs/scaling.md)."""
