"""A throw-away PostgreSQL server for the database tests.

Creates a cluster in a temporary folder, starts it on a free loopback port (no fsync: the
data is thrown away), creates the roles the tests use, prints one JSON line with their
connection URLs, and runs until its stdin closes; then it stops the server and deletes the
cluster, so nothing is left running or on disk.

    python postgres.py [--bindir DIR]

Roles: `admin` (superuser, owns database `test`), `reader` (may only log in and read what
it is granted) and `climber` (a NOINHERIT member of pg_write_server_files: it may SET ROLE
into writing server files). Debian's `postgresql` package provides the binaries; as root, the server runs
as the `postgres` user, since PostgreSQL refuses to run as root.
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def bindir() -> str:
    for cmd in ("pg_config",):
        try:
            out = subprocess.run([cmd, "--bindir"], capture_output=True, text=True, check=True)
            d = out.stdout.strip()
            if os.path.exists(os.path.join(d, "initdb")):
                return d
        except (OSError, subprocess.CalledProcessError):
            pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL is not installed (Debian package: postgresql)")
    return os.path.dirname(found[-1])


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> None:
    # --bindir DIR: another build's binaries (the pgvector one the memory tests use).
    args = sys.argv[1:]
    bin_ = args[args.index("--bindir") + 1] if "--bindir" in args else bindir()
    base = tempfile.mkdtemp(prefix="switchboard-pg-")
    data = os.path.join(base, "data")
    # As root, the server and initdb run as `postgres` (set in the child itself, so the
    # process we stop is the server, not a wrapper).
    user = {}
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        os.chmod(base, 0o700)
        user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    port = free_port()
    log = open(os.path.join(tempfile.gettempdir(), f"switchboard-pg-{port}.log"), "w")
    server = None
    try:
        subprocess.run([os.path.join(bin_, "initdb"), "-D", data, "-A", "trust",
                        "-U", "admin", "--no-sync", "-E", "UTF8", "--locale", "C"],
                       check=True, stdout=subprocess.DEVNULL, stderr=log, cwd=base, **user)
        server = subprocess.Popen(
            [os.path.join(bin_, "postgres"), "-D", data, "-p", str(port),
             "-k", base, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=log, cwd=base, **user)
        for _ in range(200):
            ready = subprocess.run([os.path.join(bin_, "pg_isready"), "-h", "127.0.0.1",
                                    "-p", str(port)], capture_output=True)
            if ready.returncode == 0:
                break
            if server.poll() is not None:
                raise SystemExit("postgres exited while starting; see " + log.name)
            time.sleep(0.05)
        else:
            raise SystemExit("postgres did not become ready; see " + log.name)
        subprocess.run([os.path.join(bin_, "psql"), "-q", "-h", "127.0.0.1", "-p", str(port),
                        "-U", "admin", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                        "-c", "CREATE DATABASE test OWNER admin",
                        "-c", "CREATE ROLE reader LOGIN PASSWORD 'reader'",
                        "-c", "CREATE ROLE climber LOGIN PASSWORD 'climber' NOINHERIT IN ROLE pg_write_server_files"],
                       check=True, stdout=subprocess.DEVNULL, stderr=log)
        print(json.dumps({
            "admin": f"postgres://admin@127.0.0.1:{port}/test",
            "reader": f"postgres://reader:reader@127.0.0.1:{port}/test",
            "climber": f"postgres://climber:climber@127.0.0.1:{port}/test",
            "port": port,
        }), flush=True)
        sys.stdin.read()  # until the test process closes our stdin
    finally:
        if server is not None and server.poll() is None:
            # SIGINT: PostgreSQL's fast shutdown (no waiting for clients).
            server.send_signal(2)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(base, ignore_errors=True)
        log.close()
        os.unlink(log.name)


if __name__ == "__main__":
    main()
