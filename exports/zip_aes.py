"""The package as an AES-256 zip (WinZip AE-2), for requesters without age.

7-Zip, WinZip and the zip tools of most systems open it with the same
generated passphrase the age file uses. It is the weaker envelope, and the
reason age stays the default: WinZip AES stretches the passphrase with
PBKDF2-SHA1 at a fixed 1,000 rounds (harmless for our 125-bit random
passphrases, not for a human one), and it encrypts member contents only, so
member names and sizes show (the package's names hold the request id,
source and category names, never personal data). AE-2 stores no CRC of the
plaintext, which would leak something about small members.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pyzipper
from pyzipper.zipfile_aes import WZ_AES_V2, AESZipInfo

from exports._atomic import atomic_write

_COPY_SIZE = 1 << 20


def seal_zip_aes(package_zip: Path, dst: Path, passphrase: str) -> None:
    """Rewrite every member of `package_zip` into `dst`, AES-256 encrypted under `passphrase`.

    Members keep their names, order, timestamps, modes and compression;
    they stream through one at a time, so memory stays bounded. `dst`
    appears whole or not at all. Raises ValueError for an empty passphrase.
    """
    if not passphrase:
        raise ValueError("passphrase must not be empty")
    with (
        zipfile.ZipFile(package_zip) as source,
        atomic_write(dst) as out,
        pyzipper.AESZipFile(
            out, "w", encryption=pyzipper.WZ_AES, encryption_kwargs={"nbits": 256, "force_wz_aes_version": WZ_AES_V2}
        ) as sealed,
    ):
        sealed.setpassword(passphrase.encode("utf-8"))
        for info in source.infolist():
            member = AESZipInfo(info.filename, date_time=info.date_time)
            member.compress_type = info.compress_type
            member.external_attr = info.external_attr
            member.file_size = info.file_size  # lets the writer choose ZIP64 up front for big members
            with source.open(info) as reader, sealed.open(member, "w") as writer:
                shutil.copyfileobj(reader, writer, _COPY_SIZE)
