"""The AES-256 zip opens with 7-Zip and pyzipper under the passphrase, and with nothing else."""

import os
import subprocess
import zipfile

import pytest
import pyzipper

from exports.encrypt import new_passphrase
from exports.zip_aes import seal_zip_aes
from tests.support import need_command

DATE = (2026, 1, 2, 3, 4, 6)
MEMBERS = {
    "REQ-1/index.json": b'{"schema": 1}',
    "REQ-1/data/crm/customers.csv": "\ufeffnimi;kaupunki\nÄijä;Jyväskylä\n".encode() * 3000,
    "REQ-1/data/support_mail/messages/0001.eml": os.urandom(200_000),  # incompressible, over one copy block
    "REQ-1/empty.json": b"",
}


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "REQ-1.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in MEMBERS.items():
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path


def seven_zip(*args):
    return subprocess.run([need_command("7z"), *args], capture_output=True, text=True, timeout=60, check=False)


def test_7zip_opens_it_and_sees_aes_256(package, tmp_path):
    passphrase = new_passphrase()
    seal_zip_aes(package, tmp_path / "REQ-1.aes.zip", passphrase)
    done = seven_zip("x", f"-p{passphrase}", f"-o{tmp_path / 'out'}", str(tmp_path / "REQ-1.aes.zip"))
    assert done.returncode == 0, done.stdout + done.stderr
    for name, data in MEMBERS.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    listing = seven_zip("l", "-slt", f"-p{passphrase}", str(tmp_path / "REQ-1.aes.zip")).stdout
    methods = [line for line in listing.splitlines() if line.startswith("Method = ")]
    assert len(methods) == len(MEMBERS) and all("AES-256" in m for m in methods), methods
    assert listing.count("Encrypted = +") == len(MEMBERS)


def test_7zip_refuses_a_wrong_passphrase(package, tmp_path):
    seal_zip_aes(package, tmp_path / "REQ-1.aes.zip", new_passphrase())
    done = seven_zip("x", f"-p{new_passphrase()}", f"-o{tmp_path / 'out'}", str(tmp_path / "REQ-1.aes.zip"))
    assert done.returncode != 0
    assert "Wrong password" in done.stdout + done.stderr


def test_pyzipper_opens_it_as_ae2_and_keeps_the_member_details(package, tmp_path):
    passphrase = new_passphrase()
    seal_zip_aes(package, tmp_path / "REQ-1.aes.zip", passphrase)
    with pyzipper.AESZipFile(tmp_path / "REQ-1.aes.zip") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == list(MEMBERS)
        for info in infos:
            assert (info.date_time, info.external_attr >> 16, info.compress_type) == (DATE, 0o644, zipfile.ZIP_DEFLATED)
            assert (info.wz_aes_strength, info.wz_aes_version, info.CRC) == (3, 2, 0)  # AES-256, AE-2: no CRC
            assert zf.read(info.filename, pwd=passphrase.encode()) == MEMBERS[info.filename]
        with pytest.raises(RuntimeError, match="Bad password"):
            zf.read("REQ-1/index.json", pwd=b"wrong")
    # The passphrase is not there in the clear, and neither is any member's content.
    sealed = (tmp_path / "REQ-1.aes.zip").read_bytes()
    assert passphrase.encode() not in sealed and b'"schema"' not in sealed


def test_nothing_half_written(tmp_path):
    (tmp_path / "not.zip").write_bytes(b"PK\x03\x04 but not really a zip" * 10)
    with pytest.raises(zipfile.BadZipFile):
        seal_zip_aes(tmp_path / "not.zip", tmp_path / "out.zip", "pw")
    with pytest.raises(ValueError, match="passphrase"):
        seal_zip_aes(tmp_path / "not.zip", tmp_path / "out.zip", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.zip"]


def test_a_damaged_member_leaves_nothing(package, tmp_path):
    data = bytearray(package.read_bytes())
    where = data.index(b"REQ-1/data/support_mail") + 200  # inside the stored bytes of the random member
    data[where] ^= 0xFF
    package.write_bytes(bytes(data))
    with pytest.raises(zipfile.BadZipFile):
        seal_zip_aes(package, tmp_path / "out.zip", "pw")
    assert not (tmp_path / "out.zip").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
