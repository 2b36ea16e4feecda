"""Neural models on the post's picture: ``cnn`` (image only) and ``mixed`` (image + tabular).

See :mod:`~tagpulse.predict.models.images` for the input image, :mod:`.cnn` and :mod:`.mixed`
for the networks, :mod:`.image_models` for the one entry point the CLI and scoring use.
"""
