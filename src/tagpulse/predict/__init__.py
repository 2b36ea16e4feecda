"""Popularity prediction: a post's likes relative to its account's mean (issue 7).

``features`` builds the dataset from the lake, ``evaluate`` holds the baselines, metrics and
splits, ``gbm`` the gradient-boosting model, ``mlp`` the neural network (torch to train, ONNX to
score). Nothing here runs at import time.
"""

from __future__ import annotations

__all__: list[str] = []
