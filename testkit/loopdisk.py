"""A small real filesystem that fails on demand: an ext4 image on a loop device.

The kernel is the referee: `fail()` makes ext4 report an error (`trigger_fs_error`, the
kernel's own test hook); mounted with `errors=remount-ro`, ext4 aborts its journal and
remounts read-only exactly as it does when the disk underneath fails, so whatever a program
had written but not flushed is gone after the repair (`umount`, `e2fsck -fy`, `mount`).
`fill()` takes every free block, as a full disk does. Needs root and loop devices
(`available()` says why not); `LoopDisk` always unmounts and removes its image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

TOOLS = ("mkfs.ext4", "e2fsck", "mount", "umount", "losetup")


def available() -> str | None:
    """None if a loop-mounted ext4 can be made here, else why not."""
    if os.geteuid() != 0:
        return "loop mounts need root"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)} (apt-get install e2fsprogs mount)"
    if not Path("/dev/loop-control").exists():
        return "no /dev/loop-control: this machine has no loop devices"
    return None


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60)


class LoopDisk:
    """`with LoopDisk(folder, megabytes=48) as disk:` a fresh ext4 mounted at `disk.mount`."""

    def __init__(self, folder: Path, megabytes: int = 48) -> None:
        self.image = Path(folder) / "disk.img"
        self.mount = Path(folder) / "disk"
        self.megabytes = megabytes
        self.mounted = False

    def __enter__(self) -> "LoopDisk":
        self.mount.mkdir(parents=True, exist_ok=True)
        with open(self.image, "wb") as image:
            image.truncate(self.megabytes * 1024 * 1024)
        _run("mkfs.ext4", "-q", "-F", str(self.image))
        self.attach()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.detach()
        self.image.unlink(missing_ok=True)

    def attach(self) -> None:
        _run("mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.mount))
        self.mounted = True

    def detach(self) -> None:
        """Unmount (lazily if something still holds a file: the loop device goes with the last user)."""
        if not self.mounted:
            return
        if subprocess.run(["umount", str(self.mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(self.mount)], capture_output=True)
        self.mounted = False

    @property
    def device(self) -> str:
        return _run("findmnt", "-n", "-o", "SOURCE", str(self.mount)).stdout.strip()

    def fail(self) -> None:
        """An ext4 error now: the kernel aborts the journal and remounts read-only."""
        name = Path(self.device).name
        Path(f"/sys/fs/ext4/{name}/trigger_fs_error").write_text("disk failing (test)\n")

    def read_only(self) -> bool:
        options = _run("findmnt", "-n", "-o", "OPTIONS", str(self.mount)).stdout.strip().split(",")
        return "ro" in options or "emergency_ro" in options

    def repair(self) -> str:
        """What an operator does: unmount, `e2fsck -fy`, mount again. Returns e2fsck's report."""
        self.detach()
        checked = subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True, text=True, timeout=120)
        if checked.returncode >= 4:  # 1 and 2: errors corrected
            raise RuntimeError(f"e2fsck could not repair {self.image}: {checked.stdout}{checked.stderr}")
        self.attach()
        return checked.stdout

    def fill(self) -> Path:
        """Take every free block (a full disk); `free()` gives them back."""
        filler = self.mount / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1024 * 1024, 4096):  # big blocks, then the last partial ones
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError:
                        break
            os.fsync(fd)
        finally:
            os.close(fd)
        return filler

    def free(self) -> None:
        (self.mount / "filler").unlink(missing_ok=True)
