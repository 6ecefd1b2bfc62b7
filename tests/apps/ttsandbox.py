#!/usr/bin/env python3
"""ttsandbox: what a daemon did under strace, against its systemd unit.

usage: ttsandbox.py --unit UNIT --strace FILE --exe PATH --root DIR
                    [--write DIR]... [--device PATH]...

systemd cannot run here (it is not PID 1), so the unit's sandbox is
checked against the system calls the daemon really made, traced with
`strace -f -y -qq -o FILE`, from the execve of PATH on (what ran before,
setpriv dropping privileges, is systemd's part):

  - every system call is in the unit's SystemCallFilter= (its lines in
    order, groups expanded by `systemd-analyze syscall-filter`);
  - every socket's family is in RestrictAddressFamilies=;
  - nothing MemoryDenyWriteExecute= refuses: no mmap() both writable and
    executable, no mprotect() to executable;
  - every file written, created, renamed or removed is under a --write
    DIR (what ReadWritePaths=, StateDirectory= and RuntimeDirectory=
    stand for in the test, all under its --root DIR) or a private /tmp
    (PrivateTmp=) outside the --root DIR;
  - with ProcSubset=pid, no /proc file but a process's; with
    ProtectHome=yes, nothing under /home or /root; with PrivateDevices=yes,
    no device but /dev/null and its kind (or a --device PATH).

Prints one line per finding and "sandbox OK: N system calls of M kinds"
at the end; exits 1 on any finding.
"""
import argparse
import os
import re
import subprocess
import sys

WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
PATH_CALLS = {
    # call: (index of the dirfd or None, index of the path) of each path
    "open": [(None, 0)], "creat": [(None, 0)], "openat": [(0, 1)],
    "openat2": [(0, 1)], "mkdir": [(None, 0)], "mkdirat": [(0, 1)],
    "unlink": [(None, 0)], "unlinkat": [(0, 1)], "rmdir": [(None, 0)],
    "rename": [(None, 0), (None, 1)], "renameat": [(0, 1), (2, 3)],
    "renameat2": [(0, 1), (2, 3)], "link": [(None, 1)],
    "linkat": [(2, 3)], "symlink": [(None, 1)], "symlinkat": [(1, 2)],
    "truncate": [(None, 0)], "mknod": [(None, 0)], "mknodat": [(0, 1)],
    "chmod": [(None, 0)], "fchmodat": [(0, 1)], "chown": [(None, 0)],
    "lchown": [(None, 0)], "fchownat": [(0, 1)], "utimensat": [(0, 1)],
    "bind": [],
}
ALWAYS_WRITES = ("open", "openat", "openat2")  # only with WRITE_FLAGS
PRIVATE_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                   "/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/shm",
                   "/dev/pts", "/dev/log", "/dev/stdin", "/dev/stdout",
                   "/dev/stderr", "/dev/fd")


def unit_settings(path):
    """Every Key=value of the unit's [Service], in order."""
    settings = []
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                key, value = line.split("=", 1)
                settings.append((key.strip(), value.strip()))
    return settings


_groups = {}


def expand(name):
    """A system call, or a @group's calls (recursively)."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             capture_output=True, text=True, check=True)
        calls = set()
        for line in out.stdout.splitlines()[1:]:
            item = line.strip()
            if item and not item.startswith("#"):
                calls |= expand(item)
        _groups[name] = calls
    return _groups[name]


def syscall_filter(settings):
    """The allowed set, as systemd builds it from the lines in order."""
    allowed = None
    for key, value in settings:
        if key != "SystemCallFilter":
            continue
        deny = value.startswith("~")
        names = set()
        for item in value.lstrip("~").split():
            names |= expand(item)
        if allowed is None:
            if deny:
                raise SystemExit("ttsandbox: only allow-lists are handled")
            allowed = names
        elif deny:
            allowed -= names
        else:
            allowed |= names
    return allowed


LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")


def split_args(text):
    """The top-level, comma-separated arguments of a call's text."""
    args, depth, current, quoted, escaped = [], 0, "", False, False
    for c in text:
        if quoted:
            current += c
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
            continue
        if c == '"':
            quoted = True
        elif c in "[{(<":
            depth += 1
        elif c in "]})>":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += c
    if current.strip():
        args.append(current.strip())
    return args


def unquote(arg):
    m = re.match(r'^"((?:[^"\\]|\\.)*)"', arg)
    return m.group(1) if m else None


def fd_path(arg):
    """The path strace -y shows for a descriptor: 3</x/y> -> /x/y."""
    m = re.match(r"^-?\d+<(.*)>$", arg)
    return m.group(1) if m else None


def resolve(args, dirfd_index, path_index, cwd):
    if path_index >= len(args):
        return None
    path = unquote(args[path_index])
    if path is None:
        return None
    if path.startswith("/"):
        return os.path.normpath(path)
    base = cwd
    if dirfd_index is not None and dirfd_index < len(args):
        if args[dirfd_index] != "AT_FDCWD":
            base = fd_path(args[dirfd_index]) or "?"
    return os.path.normpath(os.path.join(base, path))


def under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/")
               for r in roots)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--unit", required=True)
    parser.add_argument("--strace", required=True)
    parser.add_argument("--exe", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--write", action="append", default=[])
    parser.add_argument("--device", action="append", default=[])
    args = parser.parse_args()

    settings = unit_settings(args.unit)
    values = dict(settings)
    allowed = syscall_filter(settings)
    families = set(values.get("RestrictAddressFamilies", "").split())
    is_proc_pid = values.get("ProcSubset") == "pid"
    is_home_hidden = values.get("ProtectHome") == "yes"
    is_private_tmp = values.get("PrivateTmp") == "yes"
    devices = (PRIVATE_DEVICES + tuple(args.device)
               if values.get("PrivateDevices") == "yes" else None)
    is_mdwe = values.get("MemoryDenyWriteExecute") == "yes"

    findings = set()
    seen = {}
    started = set()     # pids past the execve of the daemon
    first_pid = None
    pending = {}        # pid -> the call text before "<unfinished ...>"
    with open(args.strace, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid = int(m.group(1))
            if first_pid is None:
                first_pid = pid
            name = m.group(2) or m.group(3)
            rest = m.group(4)
            if m.group(2):
                rest = pending.pop(pid, "") + rest
            elif rest.endswith("<unfinished ...>"):
                pending[pid] = rest[:-len("<unfinished ...>")]
                continue
            if pid == first_pid and pid not in started:
                # The executed path, not an argument: setpriv's own execve
                # names the daemon too (strace cuts strings past 32 bytes,
                # so whether it shows depends on the path's length).
                if (name == "execve" and
                        rest.startswith('"%s"' % args.exe) and
                        re.search(r"= 0$", rest)):
                    started.add(pid)
                continue
            started.add(pid)
            seen[name] = seen.get(name, 0) + 1
            if name not in allowed:
                findings.add("SystemCallFilter refuses %s()" % name)
            call_args = split_args(rest)
            failed = re.search(r"= -1 E", rest) is not None
            if name in ("socket", "socketpair") and call_args:
                family = call_args[0]
                if families and family not in families:
                    findings.add("RestrictAddressFamilies refuses %s" %
                                 family)
            if is_mdwe and name in ("mmap", "mmap2") and len(call_args) > 2:
                prot = call_args[2]
                if "PROT_WRITE" in prot and "PROT_EXEC" in prot:
                    findings.add("MemoryDenyWriteExecute refuses "
                                 "mmap(%s)" % prot)
            if (is_mdwe and name in ("mprotect", "pkey_mprotect") and
                    len(call_args) > 2 and "PROT_EXEC" in call_args[2]):
                findings.add("MemoryDenyWriteExecute refuses mprotect(%s)" %
                             call_args[2])
            for dirfd_index, path_index in PATH_CALLS.get(name, []):
                path = resolve(call_args, dirfd_index, path_index, "/")
                if path is None:
                    continue
                is_write = name not in ALWAYS_WRITES or any(
                    flag in (call_args[path_index + 1]
                             if path_index + 1 < len(call_args) else "")
                    for flag in WRITE_FLAGS)
                check_path(path, is_write and not failed, args,
                           is_private_tmp, is_proc_pid, is_home_hidden,
                           devices, findings)
            if name in ("stat", "lstat", "newfstatat", "statx", "access",
                        "faccessat", "faccessat2", "readlink",
                        "readlinkat", "execve", "statfs", "chdir"):
                index = 1 if name in ("newfstatat", "statx", "faccessat",
                                      "faccessat2", "readlinkat") else 0
                path = resolve(call_args, index - 1 if index else None,
                               index, "/")
                if path is not None:
                    check_path(path, False, args, is_private_tmp,
                               is_proc_pid, is_home_hidden, devices,
                               findings)
    if not started:
        print("no execve of %s in %s" % (args.exe, args.strace))
        return 1
    for finding in sorted(findings):
        print(finding)
    total = sum(seen.values())
    if findings:
        return 1
    print("sandbox OK: %d system calls of %d kinds" % (total, len(seen)))
    return 0


# What glibc reads when it can and does without when it cannot: when a
# thread's malloc arena shrinks, /proc/sys/vm/overcommit_memory decides
# how (hidden, it keeps the mapping). Whether it happens at all depends
# on the run's allocations.
PROC_OPTIONAL = ("/proc/sys/vm/overcommit_memory",)


def check_path(path, is_write, args, is_private_tmp, is_proc_pid,
               is_home_hidden, devices, findings):
    # /dev, /proc and /sys are not ProtectSystem='s (PrivateDevices= is
    # checked below): writing /dev/null is fine.
    if is_write and not under(path, args.write) and \
            not under(path, ["/dev", "/proc", "/sys"]):
        if not (is_private_tmp and under(path, ["/tmp", "/var/tmp"]) and
                not under(path, [args.root])):
            findings.add("ProtectSystem=strict refuses writing %s" % path)
    if is_proc_pid and path.startswith("/proc/") and \
            path not in PROC_OPTIONAL:
        part = path.split("/")[2]
        if not (part.isdigit() or part in ("self", "thread-self")):
            findings.add("ProcSubset=pid hides %s" % path)
    if is_home_hidden and under(path, ["/home", "/root", "/run/user"]):
        findings.add("ProtectHome hides %s" % path)
    if devices is not None and path.startswith("/dev/") and \
            not under(path, devices):
        findings.add("PrivateDevices hides %s" % path)


if __name__ == "__main__":
    sys.exit(main())
