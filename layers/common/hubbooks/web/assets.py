"""The settings page's files (HTML, CSS, JavaScript) shipped in the package; no build step, no CDN."""

from functools import cache
from importlib import resources


@cache
def asset(name: str) -> str:
    return resources.files("hubbooks.web").joinpath(f"static/{name}").read_text()
