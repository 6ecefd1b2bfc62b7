#!/usr/bin/python3
"""A disk whose fsync fails, for the relay's tests (relay-fsync.t): a
read-write FUSE passthrough showing SOURCE at MOUNTPOINT, where fsync of a
file or a directory fails with EIO while the file CONTROL exists and its
content, a Python regular expression, matches the path synced (relative
to the mount, with a leading "/"; an empty CONTROL matches everything).
That is what a failing disk, or a thin-provisioned or network volume that
ran out, shows a program: writes succeed into the page cache, and only
fsync says they never reached the disk. Everything else passes through.
CONTROL is read at each fsync, so a test switches the failure on and off
by writing or removing it. Runs in the foreground until unmounted.

usage: ttfsync.py SOURCE MOUNTPOINT CONTROL
"""
import errno
import os
import re
import sys

from fusepy import FUSE, FuseOSError, Operations


class FailingSync(Operations):
    def __init__(self, source, control):
        # Opened before the mount: MOUNTPOINT may hide SOURCE.
        self.dirfd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        self.control = control

    def rel(self, path):
        return path.lstrip("/") or "."

    def check_sync(self, path):
        try:
            with open(self.control) as f:
                pattern = f.read().strip()
        except FileNotFoundError:
            return
        if re.search(pattern, path):
            print("fsync %s: EIO" % path, file=sys.stderr, flush=True)
            raise FuseOSError(errno.EIO)

    def getattr(self, path, fh=None):
        st = os.stat(self.rel(path), dir_fd=self.dirfd, follow_symlinks=False)
        return {k: getattr(st, k) for k in (
            "st_mode", "st_nlink", "st_size", "st_uid", "st_gid",
            "st_atime", "st_mtime", "st_ctime", "st_blocks")}

    def readdir(self, path, fh):
        fd = os.open(self.rel(path), os.O_RDONLY | os.O_DIRECTORY,
                     dir_fd=self.dirfd)
        try:
            return [".", ".."] + os.listdir(fd)
        finally:
            os.close(fd)

    def mkdir(self, path, mode):
        os.mkdir(self.rel(path), mode, dir_fd=self.dirfd)

    def rmdir(self, path):
        os.rmdir(self.rel(path), dir_fd=self.dirfd)

    def unlink(self, path):
        os.unlink(self.rel(path), dir_fd=self.dirfd)

    def rename(self, old, new):
        os.rename(self.rel(old), self.rel(new), src_dir_fd=self.dirfd,
                  dst_dir_fd=self.dirfd)

    def chmod(self, path, mode):
        os.chmod(self.rel(path), mode, dir_fd=self.dirfd)

    def chown(self, path, uid, gid):
        os.chown(self.rel(path), uid, gid, dir_fd=self.dirfd,
                 follow_symlinks=False)

    def utimens(self, path, times=None):
        os.utime(self.rel(path), times=times, dir_fd=self.dirfd)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
            return
        fd = os.open(self.rel(path), os.O_WRONLY, dir_fd=self.dirfd)
        try:
            os.ftruncate(fd, length)
        finally:
            os.close(fd)

    def create(self, path, mode, fi=None):
        return os.open(self.rel(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                       mode, dir_fd=self.dirfd)

    def open(self, path, flags):
        return os.open(self.rel(path), flags & ~os.O_CREAT, dir_fd=self.dirfd)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def release(self, path, fh):
        os.close(fh)

    # The data went to SOURCE's page cache; a real fsync is not needed
    # for the test, only its failure.
    def fsync(self, path, datasync, fh):
        self.check_sync(path)

    def fsyncdir(self, path, datasync, fh):
        self.check_sync(path)

    def statfs(self, path):
        st = os.statvfs(self.dirfd)
        return {k: getattr(st, k) for k in (
            "f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
            "f_files", "f_ffree", "f_favail", "f_flag", "f_namemax")}


if __name__ == "__main__":
    source, mountpoint, control = sys.argv[1:4]
    FUSE(FailingSync(source, control), mountpoint, foreground=True,
         nonempty=True)
