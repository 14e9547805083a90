"""Write a file so that readers see all of it or nothing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_write(dst: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside `dst`, renamed onto it when the block ends without error.

    On any exception the temporary file is removed and `dst` is untouched.
    The temporary name starts with '.', so a crash that kills the process
    outright leaves at most a hidden `.name.*.part` file.
    """
    dst = Path(dst)
    with tempfile.NamedTemporaryFile(dir=dst.parent, prefix=f".{dst.name}.", suffix=".part", delete=False) as out:
        tmp_path = Path(out.name)
        try:
            yield out
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            out.close()
            tmp_path.unlink(missing_ok=True)
            raise
    try:
        os.replace(tmp_path, dst)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
