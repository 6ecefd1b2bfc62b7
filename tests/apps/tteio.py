#!/usr/bin/python3
"""A failing disk for the relay's tests (relay-eio.t): a read-only FUSE
filesystem showing the files of SOURCE at MOUNTPOINT, except that reading
any file named POISON past its first LIMIT bytes fails with EIO, as a bad
sector would. SOURCE is read through a descriptor opened before the mount,
so MOUNTPOINT may be SOURCE itself (the files stay where the relay expects
them). Runs in the foreground until unmounted.

usage: tteio.py SOURCE MOUNTPOINT POISON LIMIT
"""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class Failing(Operations):
    def __init__(self, source, poison, limit):
        self.dirfd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        self.poison = poison
        self.limit = limit

    def rel(self, path):
        return path.lstrip("/") or "."

    def getattr(self, path, fh=None):
        st = os.stat(self.rel(path), dir_fd=self.dirfd, follow_symlinks=False)
        return {k: getattr(st, k) for k in (
            "st_mode", "st_nlink", "st_size", "st_uid", "st_gid",
            "st_atime", "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        fd = os.open(self.rel(path), os.O_RDONLY | os.O_DIRECTORY,
                     dir_fd=self.dirfd)
        try:
            return [".", ".."] + os.listdir(fd)
        finally:
            os.close(fd)

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        return os.open(self.rel(path), os.O_RDONLY, dir_fd=self.dirfd)

    def read(self, path, size, offset, fh):
        if os.path.basename(path) == self.poison and \
                offset + size > self.limit:
            raise FuseOSError(errno.EIO)
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)

    def statfs(self, path):
        st = os.statvfs(self.rel(path) if path != "/" else ".",)
        return {k: getattr(st, k) for k in (
            "f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
            "f_files", "f_ffree", "f_favail", "f_flag", "f_namemax")}


if __name__ == "__main__":
    source, mountpoint, poison, limit = sys.argv[1:5]
    fs = Failing(source, poison, int(limit))
    FUSE(fs, mountpoint, foreground=True, ro=True, direct_io=True,
         nonempty=True)
