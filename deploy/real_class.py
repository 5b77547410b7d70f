"""What a real class changes in the tested single-machine configuration.

    jupyterhub -f deploy/real_class.py

This file loads deploy/jupyterhub_config.py (the one the tests run) and then
changes the four things a class of real students on a real network needs.
The tests only check that it loads and sets what it says; they do not run a
hub with it (that needs an OAuth app, a certificate and Unix users), so read
it as a starting point and fill in the values marked CHANGE ME. Each part
needs a package beside jupyterhub in the hub's environment:

    pip install oauthenticator jupyterhub-systemdspawner jupyterhub-idle-culler
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
load_subconfig(str(Path(__file__).with_name("jupyterhub_config.py")))  # noqa: F821

# 1. Who may log in: your institution's accounts instead of any name at all.
#    GitHub is shown; oauthenticator also has Google, GitLab, Azure AD and a
#    generic OpenID Connect login. Register an OAuth app whose callback is
#    https://HOST/hub/oauth_callback and give the hub its id and secret.
c.JupyterHub.authenticator_class = "github"
c.GitHubOAuthenticator.oauth_callback_url = "https://hub.example.edu/hub/oauth_callback"  # CHANGE ME
c.GitHubOAuthenticator.client_id = os.environ.get("GITHUB_CLIENT_ID", "")
c.GitHubOAuthenticator.client_secret = os.environ.get("GITHUB_CLIENT_SECRET", "")
c.Authenticator.allow_all = False
c.Authenticator.allowed_users = {"student-a", "student-b"}  # CHANGE ME: your roster
c.Authenticator.admin_users = {"teacher"}  # CHANGE ME

# 2. HTTPS on the machine's public address, with your certificate (or put
#    the hub behind a reverse proxy that terminates TLS and keep 127.0.0.1).
c.JupyterHub.bind_url = "https://0.0.0.0:443"
c.JupyterHub.ssl_cert = "/etc/letsencrypt/live/hub.example.edu/fullchain.pem"  # CHANGE ME
c.JupyterHub.ssl_key = "/etc/letsencrypt/live/hub.example.edu/privkey.pem"  # CHANGE ME

# 3. Each student as a Unix user of their own (created on first login), with
#    a memory and CPU limit that the system enforces: one student's runaway
#    `%load` cannot take the others' memory. systemd does the enforcing;
#    SimpleLocalProcessSpawner would only pass the numbers on.
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.dynamic_users = True
# Measured (the benchmarks): with KV cells a student needs about 160 MB (the
# single-user server 140, the kernel 15); 1G leaves room for a big %load.
c.Spawner.mem_limit = "1G"
c.Spawner.cpu_limit = 1.0
# For lessons with Rust cells (06, 07) use these instead: a kernel holds
# about 400 MB after lesson 06 (520 MB at its peak), the process that runs
# Rust code 60 MB, a cell's compile 190 MB for a moment, and a kernel's
# first Rust cell takes about 7 CPU seconds (later ones under half a
# second). Install Rust once for everyone (deploy/rust-for-class.sh /opt/rust
# does, with the Rust cache warmed; make /opt/rust/rust-cells writable by
# the students' group) and give the kernels its settings; an unused Rust
# context gives its memory back after SLED_KERNEL_RUST_IDLE_MINUTES.
RUST_CLASS = False  # CHANGE ME: True for lessons with Rust cells
if RUST_CLASS:
    c.Spawner.mem_limit = "1536M"
    c.Spawner.cpu_limit = 2.0
    c.Spawner.environment = {
        "RUSTUP_HOME": "/opt/rust/rustup",
        "CARGO_HOME": "/opt/rust/cargo",
        "PATH": "/opt/rust/cargo/bin:/usr/local/bin:/usr/bin:/bin",
        "SLED_KERNEL_RUST_CACHE": "/opt/rust/rust-cells",
        "SLED_KERNEL_RUST_IDLE_MINUTES": "20",
    }
# Kernels still use Unix sockets (see jupyterhub_config.py), now in each
# student's own ~/.local/share/jupyter/runtime; no --allow-root: servers no
# longer run as the hub's user.
c.Spawner.args = ["--KernelManager.transport=ipc"]
if not RUST_CLASS:
    c.Spawner.environment = {}
c.Spawner.cmd = [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]

# 4. Stop servers nobody has used for an hour, so that memory comes back
#    (and with it each idle kernel's session database).
# (`append` adds to what jupyterhub_config.py set, or starts the list.)
c.JupyterHub.load_roles.append(
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
)
c.JupyterHub.services.append(
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]}
)
