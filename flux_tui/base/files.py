"""The app's name and folders, and the one private atomic write.

Cache files (tokens of the client-credentials grant, asset names, the rate ledger) live in
the per-user cache folder, credentials a cleaner must not drop (a person's login) and the
config in the per-user config folder; both are ``flux-tui`` folders made 0700.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "flux-tui"


def cache_folder(*parts: str) -> Path:
    """A folder in the per-user cache folder of flux-tui (not created here)."""
    return Path(platformdirs.user_cache_dir(APP_NAME), *parts)


def config_folder(*parts: str) -> Path:
    """A folder in the per-user config folder of flux-tui (not created here)."""
    return Path(platformdirs.user_config_dir(APP_NAME), *parts)


def safe_file_name(profile: str) -> str:
    """A safe file name for ``profile``; a hash keeps 'a/b' and 'a_b' apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", profile).lstrip(".")[:64] or "_"
    if safe != profile:
        safe += "-" + hashlib.sha256(profile.encode()).hexdigest()[:8]
    return f"{safe}.json"


def write_private(path: Path, data: bytes, *, own_folder: bool = True) -> None:
    """Write ``data`` to ``path`` atomically and privately: folder 0700, file 0600.

    A temporary file in the same folder is written, fsynced and renamed into place, so a
    reader sees the old file or the new one, never half of one. ``own_folder=False`` is for
    a path the user chose (``--config ./x.toml``): a missing folder is made 0700, but an
    existing one (the current folder, /tmp) keeps its mode.
    """
    directory = path.parent
    if own_folder or not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask and ignored for an existing folder.
        os.chmod(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=path.suffix)
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; say so explicitly
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
