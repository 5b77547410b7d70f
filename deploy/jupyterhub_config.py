"""JupyterHub for a class on one machine, with the `sled` kernel.

This is the configuration that tests/python/test_jupyterhub.py runs (a class
of 5) and benches/jupyterhub_class.py (30). Run it with the jupyterhub of the
environment where the sled-kernel wheel is installed (see
docs/teachers/jupyterhub.md, "A class on JupyterHub"):

    pip install sled_kernel-*.whl 'jupyterhub>=6.1,<7'
    npm ci --prefix deploy        # configurable-http-proxy, pinned in deploy/package-lock.json
    jupyterhub -f deploy/jupyterhub_config.py

What it sets up:
  * the hub on http://127.0.0.1:8000 only (nothing outside this machine can
    reach it);
  * anyone logs in with any name and no password (DummyAuthenticator);
  * each student gets a single-user JupyterLab server of their own, from this
    same environment (so the `sled` kernel is there), started as the hub's own
    user by SimpleLocalProcessSpawner, in a home directory of their own.

That is right for trying a class out and for tests, and wrong for a real
class: deploy/real_class.py, beside this file, is what a real class changes
(an authenticator, HTTPS, each student their own Unix user with a memory
limit).

Settings from the environment, all optional:
  SLED_HUB_PORT            port of the hub's public address on 127.0.0.1 (8000);
                           the hub's own API and the proxy's API use the next two,
                           unless SLED_HUB_API_PORT / SLED_HUB_PROXY_API_PORT say otherwise
  SLED_HUB_STATE           directory for the hub's database, cookie secret and
                           proxy pid file (the current directory)
  SLED_HUB_HOMES           parent of every student's home directory (SLED_HUB_STATE/homes)
  SLED_HUB_RUNTIME         parent of every student's Jupyter runtime directory, where
                           their kernels' sockets are (SLED_HUB_STATE/run; keep it short,
                           a socket's path must stay under 108 bytes)
  SLED_HUB_TEACHER_TOKEN   an API token for a `teacher` service that may create
                           users, start and stop their servers and use them (what
                           scripts/hub_class.py needs)
"""

import os
import socket
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

here = Path(__file__).resolve().parent
env = os.environ
port = int(env.get("SLED_HUB_PORT", "8000"))
api_port = int(env.get("SLED_HUB_API_PORT", port + 1))
proxy_api_port = int(env.get("SLED_HUB_PROXY_API_PORT", port + 2))
state = Path(env.get("SLED_HUB_STATE", ".")).resolve()
homes = Path(env.get("SLED_HUB_HOMES", state / "homes")).resolve()
runtime = Path(env.get("SLED_HUB_RUNTIME", state / "run")).resolve()

# Addresses: everything on the loopback interface.
c.JupyterHub.bind_url = f"http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"

# The hub's state.
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

# The proxy: the pinned one from `npm ci --prefix deploy`, else whatever
# configurable-http-proxy is on PATH.
proxy = here / "node_modules" / ".bin" / "configurable-http-proxy"
if proxy.exists():
    c.ConfigurableHTTPProxy.command = [str(proxy)]

# Who may log in: anyone, with no password. Fine on 127.0.0.1 only.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True

# Each student's server: this environment's jupyterhub-singleuser (found by
# its absolute path, like the kernel), opening JupyterLab.
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
# Kernels talk to their server over Unix sockets, not TCP ports. Over TCP
# each server finds five free ports for every kernel it starts by binding
# and releasing them, unaware of what the other students' servers are
# picking at the same moment: when a class starts its kernels at once, two
# kernels can get the same port, and then one fails to start and a server
# talks to another student's kernel (benches/jupyterhub_class.py ran into it with
# 30 students). A Unix socket is a file named after its kernel's id, in the
# student's runtime directory.
c.Spawner.args = ["--KernelManager.transport=ipc"]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    # SimpleLocalProcessSpawner runs every server as the hub's user; Jupyter
    # refuses root unless told.
    c.Spawner.args.append("--allow-root")
# Each server's port. SimpleLocalProcessSpawner finds one by binding port 0
# and letting it go, and keeps it for the student's next start; the hub then
# takes any answer on that port, even a 404, as the server being up. With a
# class starting at once, two students could get the same port and one be
# sent to the other's server. So every start gets a port that no other
# student's server has had.
_ports: dict[str, int] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _own_port(spawner):
    me = f"{spawner.user.name}/{spawner.name}"
    taken = {port for owner, port in _ports.items() if owner != me}
    port = _free_port()
    while port in taken:
        port = _free_port()
    _ports[me] = spawner.port = port


c.Spawner.pre_spawn_hook = _own_port

# A machine that starts a whole class at once is slow to answer: let each
# server take its time rather than fail the student.
c.Spawner.start_timeout = 600
c.Spawner.http_timeout = 600
# Each student's runtime directory (their kernels' connection files and
# sockets) is SLED_HUB_RUNTIME/NAME. And every kernel keeps its session
# database in a `sled-kernel-…` directory under TMPDIR: the students'
# servers get the hub's.
c.Spawner.environment = {"JUPYTER_RUNTIME_DIR": lambda spawner: str(runtime / spawner.user.name)}
if env.get("TMPDIR"):
    c.Spawner.environment["TMPDIR"] = env["TMPDIR"]
# Rust cells, when the hub's environment has them: where rustup keeps the
# toolchain (with a HOME of their own, the students' rustup proxies would
# look in ~/.rustup and find none), the Rust cache the class shares, warmed
# before the lesson, and how long an unused Rust context may keep its
# memory. PATH, with cargo on it, is passed on by default.
c.Spawner.env_keep.extend(
    [
        "RUSTUP_HOME",
        "CARGO_HOME",
        "SLED_KERNEL_RUST_CACHE",
        "SLED_KERNEL_RUST_CACHE_MB",
        "SLED_KERNEL_RUST_IDLE_MINUTES",
    ]
)

# The teacher's API token (a service, not a person): create the students,
# start and stop their servers, and use them.
teacher_token = env.get("SLED_HUB_TEACHER_TOKEN")
if teacher_token:
    c.JupyterHub.services = [{"name": "teacher", "api_token": teacher_token}]
    c.JupyterHub.load_roles = [
        {
            "name": "teacher",
            "scopes": ["admin:users", "admin:servers", "access:servers"],
            "services": ["teacher"],
        }
    ]
