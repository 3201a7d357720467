"""BoxOffice: back office and REST API for selling and redeeming tickets."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boxoffice")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
