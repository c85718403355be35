"""Reading the source of ``tokenbudget prices update``: an http(s) URL or a local file."""

from __future__ import annotations

from pathlib import Path

from ._registry import CliError

__all__ = ["fetch"]


def fetch(source: str, timeout: float) -> bytes:
    """The bytes at ``source``; a failure is a :class:`CliError` naming it.

    httpx is imported only for a URL, so no other command pays for importing it.
    """
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise CliError(f"cannot fetch {source}: {exc}") from exc
        return response.content
    try:
        return Path(source).expanduser().read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}") from exc
