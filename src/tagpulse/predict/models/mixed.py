"""``mixed``: the tabular features and the post's picture in one network.

Two branches, concatenated, then a head: the **tabular branch** takes the MLP's features,
preprocessed as the MLP does (median imputation, missing indicators, standardisation; see
:class:`~tagpulse.predict.mlp.Preprocessing`) through two dense layers (64 and 32, ReLU); the
**image branch** is the ``cnn``'s (side-by-side grayscale 100 x 128, three strided
convolutions, mean over positions) plus the two picture-present indicators. Head: a dense
layer (32, ReLU) and one output, the standardised ratio, turned back into the ratio inside the
network. Trained as :mod:`~tagpulse.predict.models.nets` describes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tagpulse.predict.models.base import ImageRegressor
from tagpulse.predict.models.nets import image_branch

__all__ = ["MixedModel"]


class MixedModel(ImageRegressor):
    kind: ClassVar[str] = "mixed"
    uses_features: ClassVar[bool] = True

    def make_net(self, torch: Any, n_features: int, y_mean: float, y_std: float) -> Any:
        nn = torch.nn
        p = self.params
        module: Any = nn.Module

        class Mixed(module):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.image = image_branch(torch, p.channels)
                self.tabular = nn.Sequential(
                    nn.Linear(n_features, 2 * p.hidden), nn.ReLU(),
                    nn.Linear(2 * p.hidden, p.hidden), nn.ReLU(),
                )  # fmt: skip
                self.head = nn.Sequential(
                    nn.Linear(p.hidden + p.channels[-1] + 2, p.hidden), nn.ReLU(),
                    nn.Linear(p.hidden, 1),
                )  # fmt: skip
                self.register_buffer("y_mean", torch.tensor(y_mean, dtype=torch.float32))
                self.register_buffer("y_std", torch.tensor(y_std, dtype=torch.float32))

            def standardised(self, image: Any, flags: Any, features: Any) -> Any:
                joined = torch.cat([self.tabular(features), self.image(image), flags], dim=1)
                return self.head(joined).squeeze(-1)

            def forward(self, image: Any, flags: Any, features: Any) -> Any:
                return self.standardised(image, flags, features) * self.y_std + self.y_mean

        return Mixed()
