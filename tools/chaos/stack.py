"""The chaos run's own production-like stack: a throwaway PostgreSQL cluster, a
Redis and gunicorn, on ports nobody else uses, all under ``var/chaos``.

The machine's shared PostgreSQL (5432) and Redis (6379) are never touched: the
faults (stopping Redis, restarting PostgreSQL, killing workers) land only on the
processes started here, and :meth:`Stack.stop` ends every one of them, by pid.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
WORK = ROOT / "var" / "chaos"
HOST = "127.0.0.1"


def pg_bin(name: str) -> str:
    """A PostgreSQL server binary: Debian keeps them out of PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: install the PostgreSQL server")
    return path


def tool(name: str) -> str:
    """A client tool from PATH, by its full path."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found in PATH")
    return path


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Stack:
    """PostgreSQL on ``pg_port``, Redis on ``redis_port``, gunicorn with ``workers``
    workers on ``http_port``. Every method is safe to call in any state."""

    def __init__(
        self,
        *,
        pg_port: int = 55432,
        redis_port: int = 56379,
        http_port: int = 8800,
        workers: int = 3,
        users: int = 60,
        log=print,
    ) -> None:
        self.pg_port = pg_port
        self.redis_port = redis_port
        self.http_port = http_port
        self.workers = workers
        self.users = users
        self.log = log
        self.pg_data = WORK / "pg"
        self.pg_log = WORK / "postgresql.log"
        self.redis_pidfile = WORK / "redis.pid"
        self.keys_file = WORK / "keys.json"
        # The code under test: a copy of one commit, so that a worker forked
        # after a kill runs the same code as the others, whatever is edited in
        # the working tree meanwhile.
        self.src = WORK / "src"
        self.commit = ""
        self.probe_file = WORK / "probe-key.json"
        self.gunicorn: subprocess.Popen | None = None
        # Where the workers aggregate their metrics (see gunicorn.conf.py).
        self.metrics_dir = f"/dev/shm/exchange-metrics-{http_port}"  # noqa: S108
        self.env = self._app_env()

    # --- environment -----------------------------------------------------------------

    def _app_env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                (
                    "DATABASE_URL",
                    "REPLICA_DATABASE_URL",
                    "REDIS_URL",
                    "SENTRY_",
                    "PROMETHEUS_MULTIPROC_DIR",
                )
            )
        }
        env.update(
            {
                "SECRET_KEY": base64.urlsafe_b64encode(os.urandom(48)).decode(),
                "API_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(
                    os.urandom(32)
                ).decode(),
                "DEBUG": "0",
                "DATABASE_URL": f"postgres://postgres@{HOST}:{self.pg_port}/exchange",
                "REDIS_URL": f"redis://{HOST}:{self.redis_port}/0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "0",
                "SESSION_COOKIE_SECURE": "0",
                "CSRF_COOKIE_SECURE": "0",
                "SECURE_HSTS_SECONDS": "0",
                "LOG_LEVEL": "WARNING",
                # Every simulated trader connects from 127.0.0.1: the limits are
                # raised for the run, and still counted in Redis on every request.
                "RATE_LIMIT_WEIGHT_PER_MINUTE": "100000000",
                "RATE_LIMIT_ORDERS_PER_10S": "100000",
                "RATE_LIMIT_ORDERS_PER_DAY": "100000000",
                "EXPOSE_INTERNAL_BOOKS": "1",
                "PORT": str(self.http_port),
                "BIND_HOST": HOST,
                "WEB_WORKERS": str(self.workers),
                "CACHE_KEY_PREFIX": "chaos",
            }
        )
        return env

    @property
    def dsn(self) -> str:
        return f"host={HOST} port={self.pg_port} user=postgres dbname=exchange"

    # --- PostgreSQL ------------------------------------------------------------------

    def _as_postgres(self, argv: list[str]) -> list[str]:
        """Run a server binary as the postgres user when we are root (initdb and
        the server refuse to run as root)."""
        if os.geteuid() == 0:
            return [tool("runuser"), "-u", "postgres", "--", *argv]
        return argv

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - fixed argv
            self._as_postgres([pg_bin("pg_ctl"), "-D", str(self.pg_data), *args]),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def pg_init(self) -> None:
        if self.pg_data.exists():
            self._pg_ctl("stop", "-m", "immediate", check=False)
            shutil.rmtree(self.pg_data)
        self.pg_data.mkdir(parents=True)
        self.pg_log.write_text("")
        if os.geteuid() == 0:
            shutil.chown(self.pg_data, "postgres", "postgres")
            shutil.chown(self.pg_log, "postgres", "postgres")
        subprocess.run(  # noqa: S603 - fixed argv
            self._as_postgres(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(self.pg_data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            capture_output=True,
            check=True,
            timeout=120,
        )
        with open(self.pg_data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.pg_port}\n"
                f"listen_addresses = '{HOST}'\n"
                f"unix_socket_directories = '{self.pg_data}'\n"
                "max_connections = 100\n"
            )

    def pg_start(self) -> None:
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.pg_log))

    def pg_stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-w", "-t", "60", "-m", mode, check=False)

    def pg_restart(self) -> None:
        self._pg_ctl("restart", "-w", "-t", "60", "-m", "fast", "-l", str(self.pg_log))

    def pg_running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def pg_create_database(self) -> None:
        subprocess.run(  # noqa: S603 - fixed argv
            [
                tool("psql"),
                "-h",
                HOST,
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "-qc",
                "CREATE DATABASE exchange",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )

    # --- Redis -----------------------------------------------------------------------

    def redis_start(self) -> None:
        subprocess.run(  # noqa: S603 - fixed argv
            [
                tool("redis-server"),
                "--port",
                str(self.redis_port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.redis_pidfile),
                "--logfile",
                str(WORK / "redis.log"),
                "--dir",
                str(WORK),
            ],
            check=True,
            timeout=30,
        )
        for _ in range(100):
            if self.redis_ping():
                return
            time.sleep(0.05)
        raise RuntimeError("Redis did not start")

    def redis_ping(self) -> bool:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [tool("redis-cli"), "-h", HOST, "-p", str(self.redis_port), "ping"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.stdout.strip() == "PONG"

    def redis_stop(self) -> None:
        subprocess.run(  # noqa: S603 - fixed argv
            [
                tool("redis-cli"),
                "-h",
                HOST,
                "-p",
                str(self.redis_port),
                "shutdown",
                "nosave",
            ],
            capture_output=True,
            timeout=10,
        )
        for _ in range(100):
            if port_free(self.redis_port):
                return
            time.sleep(0.05)

    def _redis_kill_leftover(self) -> None:
        """A Redis left by an earlier, interrupted run: its pid file names it."""
        try:
            pid = int(self.redis_pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if _pid_alive(pid) and "redis-server" in _cmdline(pid):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not _pid_alive(pid):
                    break
                time.sleep(0.05)
        self.redis_pidfile.unlink(missing_ok=True)

    # --- the application -----------------------------------------------------------

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [str(VENV / "python"), "manage.py", *args],
            cwd=self.src,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}"
            )
        return result

    def app_prepare(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo")
        self.manage(
            "bench_setup", "--users", str(self.users), "--out", str(self.keys_file)
        )
        # An account with no funds: its orders pass every filter, bring the
        # worker's book up to date, and are then refused for the balance.
        self.manage("create_user", "chaos-probe")
        probe = self.manage(
            "create_api_key", "chaos-probe", "--permissions", "read,trade"
        )
        self.probe_file.write_text(probe.stdout.strip().splitlines()[-1])

    def keys(self) -> list[dict]:
        return json.loads(self.keys_file.read_text())

    def probe_key(self) -> dict:
        return json.loads(self.probe_file.read_text())

    def gunicorn_start(self) -> None:
        self.gunicorn = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(VENV / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "exchange.wsgi:application",
            ],
            cwd=self.src,
            env={**self.env, "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir},
            start_new_session=True,
            stdout=open(WORK / "gunicorn.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        url = f"http://{HOST}:{self.http_port}/readyz"
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise RuntimeError("gunicorn exited; see var/chaos/gunicorn.log")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200 and len(self.worker_pids()) >= (
                        self.workers
                    ):
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn not ready at {url}")

    def master_pid(self) -> int | None:
        if self.gunicorn is None or self.gunicorn.poll() is not None:
            return None
        return self.gunicorn.pid

    def worker_pids(self) -> list[int]:
        """The gunicorn master's children, from /proc."""
        master = self.master_pid()
        if master is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def gunicorn_stop(self) -> None:
        if self.gunicorn is None:
            return
        if self.gunicorn.poll() is None:
            try:
                os.killpg(self.gunicorn.pid, signal.SIGTERM)
                self.gunicorn.wait(timeout=35)
            except subprocess.TimeoutExpired:
                os.killpg(self.gunicorn.pid, signal.SIGKILL)
                self.gunicorn.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.gunicorn = None

    # --- the whole stack -----------------------------------------------------------

    def source_copy(self) -> None:
        """Check out HEAD (committed files only) into ``var/chaos/src``."""
        shutil.rmtree(self.src, ignore_errors=True)
        self.src.mkdir(parents=True)
        git = tool("git")
        self.commit = subprocess.run(  # noqa: S603 - fixed argv
            [git, "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        archive = subprocess.Popen(  # noqa: S603 - fixed argv
            [git, "archive", "--format=tar", self.commit],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        subprocess.run(  # noqa: S603 - fixed argv
            [tool("tar"), "-x", "-C", str(self.src)],
            stdin=archive.stdout,
            check=True,
            timeout=120,
        )
        archive.stdout.close()
        if archive.wait(timeout=120) != 0:
            raise RuntimeError("git archive failed")

    def start(self) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        self._redis_kill_leftover()
        for port in (self.pg_port, self.redis_port, self.http_port):
            if not port_free(port):
                raise SystemExit(
                    f"port {port} is in use: the chaos run needs it for its own stack"
                )
        self.source_copy()
        self.log(f"code under test: commit {self.commit} (var/chaos/src)")
        self.log(f"PostgreSQL on {self.pg_port} (var/chaos/pg)")
        self.pg_init()
        self.pg_start()
        self.pg_create_database()
        self.log(f"Redis on {self.redis_port}")
        self.redis_start()
        self.log(f"migrations, demo data, {self.users} funded traders")
        self.app_prepare()
        self.log(f"gunicorn on {self.http_port} with {self.workers} workers")
        self.gunicorn_start()

    def stop(self, *, keep_data: bool = False) -> None:
        """End everything this stack started; never raises."""
        for step in (
            self.gunicorn_stop,
            self.redis_stop,
            self._redis_kill_leftover,
            lambda: self.pg_stop("fast") if self.pg_data.exists() else None,
        ):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - tear down as much as possible
                self.log(f"teardown: {exc}")
        if not keep_data and self.pg_data.exists():
            shutil.rmtree(self.pg_data, ignore_errors=True)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
