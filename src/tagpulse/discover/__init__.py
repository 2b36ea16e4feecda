"""Discovery: the social graph, personalised PageRank and a personalised feed."""
