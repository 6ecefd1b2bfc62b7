#!/usr/bin/python3
"""A disk whose fsync fails, or waits, for the tests (relay-fsync.t,
upload-before-sync.t): a read-write FUSE passthrough showing SOURCE at
MOUNTPOINT, where fsync of a file or a directory fails with EIO while the
file CONTROL exists and its content, a Python regular expression, matches
the path synced (relative to the mount, with a leading "/"; an empty
CONTROL matches everything). With HOLD given, an fsync whose path matches
HOLD's expression (read the same way) first waits while HOLD exists: a
disk that takes its time, for as long as a test wants. It logs "fsync
PATH: held" when it starts waiting.
That is what a failing disk, or a thin-provisioned or network volume that
ran out, shows a program: writes succeed into the page cache, and only
fsync says they never reached the disk. Everything else passes through.
CONTROL is read at each fsync, so a test switches the failure on and off
by writing or removing it. Runs in the foreground until unmounted.

usage: ttfsync.py SOURCE MOUNTPOINT CONTROL [HOLD]
"""
import errno
import os
import re
import sys
import time

from fusepy import FUSE, FuseOSError, Operations


class FailingSync(Operations):
    def __init__(self, source, control, hold):
        # Opened before the mount: MOUNTPOINT may hide SOURCE.
        self.dirfd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        self.control = control
        self.hold = hold

    def rel(self, path):
        return path.lstrip("/") or "."

    @staticmethod
    def matches(control, path):
        """True when CONTROL exists and its expression matches path."""
        try:
            with open(control) as f:
                pattern = f.read().strip()
        except FileNotFoundError:
            return False
        return re.search(pattern, path) is not None

    def check_sync(self, path):
        if self.hold is not None and self.matches(self.hold, path):
            print("fsync %s: held" % path, file=sys.stderr, flush=True)
            while self.matches(self.hold, path):
                time.sleep(0.02)
        if self.matches(self.control, path):
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
    hold = sys.argv[4] if len(sys.argv) > 4 else None
    FUSE(FailingSync(source, control, hold), mountpoint, foreground=True,
         nonempty=True)
