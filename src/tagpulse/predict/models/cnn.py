"""``cnn``: a small convolutional network on the post's picture only.

Input: the side-by-side grayscale image of :mod:`~tagpulse.predict.models.images` (profile
picture left, post image right, 100 x 128) and its two presence indicators; nothing else.
Network: the image branch of :func:`~tagpulse.predict.models.nets.image_branch` (three
strided convolutions, 8/16/32 channels, mean over positions) concatenated with the two
indicators, then a dense layer (32, ReLU) and one output: the standardised ratio, turned back
into the ratio inside the network. Trained as :mod:`~tagpulse.predict.models.nets` describes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tagpulse.predict.models.base import ImageRegressor
from tagpulse.predict.models.nets import image_branch

__all__ = ["CnnModel"]


class CnnModel(ImageRegressor):
    kind: ClassVar[str] = "cnn"
    uses_features: ClassVar[bool] = False

    def make_net(self, torch: Any, n_features: int, y_mean: float, y_std: float) -> Any:
        nn = torch.nn
        p = self.params
        module: Any = nn.Module

        class Cnn(module):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.image = image_branch(torch, p.channels)
                self.head = nn.Sequential(
                    nn.Linear(p.channels[-1] + 2, p.hidden), nn.ReLU(), nn.Linear(p.hidden, 1)
                )
                self.register_buffer("y_mean", torch.tensor(y_mean, dtype=torch.float32))
                self.register_buffer("y_std", torch.tensor(y_std, dtype=torch.float32))

            def standardised(self, image: Any, flags: Any) -> Any:
                joined = torch.cat([self.image(image), flags], dim=1)
                return self.head(joined).squeeze(-1)

            def forward(self, image: Any, flags: Any) -> Any:
                return self.standardised(image, flags) * self.y_std + self.y_mean

        return Cnn()
