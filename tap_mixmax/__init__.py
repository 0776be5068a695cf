"""tap-mixmax: a Singer tap for Mixmax."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tap-mixmax")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
