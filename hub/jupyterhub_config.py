"""A class on one machine: JupyterHub with learner accounts and the tables server.

`make hub` runs ``jupyterhub -f hub/jupyterhub_config.py`` from the
project's .venv; the README's "Teaching a class" says how a class uses it.
Everything a class may change is an environment variable (make passes its
variables of the same meaning):

    LABKIT_HUB_IP            where the hub and the tables server listen
                             (127.0.0.1; 0.0.0.0 opens both to the network)
    LABKIT_HUB_PORT          the hub's public port, the one browsers open (8000)
    LABKIT_TABLES_PORT       the instructor's tables server (7000)
    LABKIT_TABLES_OPTIONS    more options for it, e.g. "--seed 1 --turn-seconds 20"
    LABKIT_HUB_LEARNERS      accounts learner1 .. learnerN (6)
    LABKIT_HUB_PASSWORD      the class password, 8 characters or more
    LABKIT_HUB_ADMIN_PASSWORD  the instructor's (32 or more; made up and
                             written to the state dir when unset)
    LABKIT_HUB_DIR           the hub's state and the learners' homes (.hub)
    LABKIT_HUB_API_PORT, LABKIT_HUB_PROXY_API_PORT
                             the hub's and the proxy's own ports, loopback
                             only (8081, 8001)
    LABKIT_HUB_PROXY         configurable-http-proxy (.hub/node_modules/.bin/)

No Unix accounts: every learner's server runs as the user who started the
hub, in a home of its own (.hub/homes/<name>), with copies of the
notebooks. That is JupyterHub's SimpleLocalProcessSpawner, fit for one
machine the class trusts; the README's Kubernetes section is the way to
isolate learners from each other.
"""

import ipaddress
import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # noqa: F821 (JupyterHub defines it when it reads this file)

REPO = Path(__file__).resolve().parent.parent
# The hub runs from .venv: its Python and jupyterhub-singleuser are the
# learners' too, so their kernels import this labkit and its widgets.
VENV_BIN = Path(sys.executable).parent


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


STATE = Path(setting("LABKIT_HUB_DIR", str(REPO / ".hub"))).resolve()
HOMES = STATE / "homes"
IP = setting("LABKIT_HUB_IP", "127.0.0.1")
PORT = int(setting("LABKIT_HUB_PORT", "8000"))
TABLES_PORT = int(setting("LABKIT_TABLES_PORT", "7000"))
CLASS_SIZE = int(setting("LABKIT_HUB_LEARNERS", "6"))
LEARNERS = [f"learner{n}" for n in range(1, CLASS_SIZE + 1)]
INSTRUCTOR = "instructor"
DEFAULT_PASSWORD = "labkit-class"
PASSWORD = setting("LABKIT_HUB_PASSWORD", DEFAULT_PASSWORD)
PROXY = setting(
    "LABKIT_HUB_PROXY", str(REPO / ".hub/node_modules/.bin/configurable-http-proxy")
)


def loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


if not loopback(IP) and PASSWORD == DEFAULT_PASSWORD:
    # The default is in this file for anyone to read: fine on 127.0.0.1,
    # not on a network.
    sys.exit(
        f"LABKIT_HUB_IP={IP} opens the hub to the network: "
        "choose a class password first (LABKIT_HUB_PASSWORD=...)"
    )

STATE.mkdir(parents=True, exist_ok=True)
HOMES.mkdir(exist_ok=True)

# -- where it listens -------------------------------------------------------

c.JupyterHub.ip = IP
c.JupyterHub.port = PORT
# The hub itself and the proxy's REST API stay on loopback whatever IP is:
# only the proxy (the public port) and the tables server face a class.
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(setting("LABKIT_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{setting('LABKIT_HUB_PROXY_API_PORT', '8001')}"
)
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")

# -- who logs in --------------------------------------------------------------

# One class password for every learner (SharedPasswordAuthenticator replaces
# DummyAuthenticator's password, deprecated since JupyterHub 5.3). Only the
# listed accounts exist: the password alone does not make new ones.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = PASSWORD
c.Authenticator.allowed_users = set(LEARNERS)
c.Authenticator.admin_users = {INSTRUCTOR}


def admin_password() -> str:
    """The instructor's password: given, or made up once and kept (0600)."""
    given = os.environ.get("LABKIT_HUB_ADMIN_PASSWORD")
    if given:
        return given
    kept = STATE / "instructor-password"
    if not kept.exists():
        kept.touch(mode=0o600)
        kept.write_text(secrets.token_urlsafe(32) + "\n")
    return kept.read_text().strip()


c.SharedPasswordAuthenticator.admin_password = admin_password()

# -- the learners' servers ------------------------------------------------------


def copy_notebooks(spawner) -> None:
    """Give the learner copies of the notebooks they have none of yet, as
    `make lab` does: a learner's edits are never overwritten, and notebooks
    added to the course since their last login arrive."""
    home = Path(spawner.home_dir)
    sources = [(REPO / "notebooks", home)]
    release = REPO / "course/release/exercises"  # nbgrader's student version
    if release.is_dir():
        sources.append((release, home / "exercises"))
    for source, target in sources:
        target.mkdir(parents=True, exist_ok=True)
        for original in sorted(source.glob("*.ipynb")):
            if not (target / original.name).exists():
                shutil.copy2(original, target / original.name)


def tables_address() -> str:
    """The tables server as the learners' kernels (on this machine) reach it."""
    any_address = IP in ("0.0.0.0", "::", "")
    return f"{'127.0.0.1' if any_address else IP}:{TABLES_PORT}"


c.JupyterHub.spawner_class = SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
c.Spawner.notebook_dir = str(HOMES / "{username}")
c.Spawner.pre_spawn_hook = copy_notebooks
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    # make lab's app settings: no news or update checks (they need the
    # internet and pop up over the page), no nbgrader menus for learners.
    f"--LabApp.app_settings_dir={REPO / 'jupyter'}",
    "--LabApp.news_url=",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")  # containers and CI run as root
c.Spawner.environment = {
    # notebook 11's class cell joins this server when it is set
    "LABKIT_TABLES": tables_address(),
    # `python -m labkit` in a learner's terminal is the lab's Python
    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
    "JUPYTER_PREFER_ENV_PATH": "1",  # the venv's kernelspec, not the system's
}
# Several servers start at once when a class logs in together, on a few
# cores: give each time to start rather than fail it.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# -- the instructor's tables server ----------------------------------------------

# All the learners' kernels connect from this machine, so the server sees
# one address for the whole class: its limit per address (16 by default,
# against one runaway notebook) becomes 16 per learner.
per_peer = 16 * (len(LEARNERS) + 1)
c.JupyterHub.services = [
    {
        "name": "tables",
        "command": [
            sys.executable,
            "-m",
            "labkit",
            "serve",
            "tables",
            "--host",
            IP,
            "--port",
            str(TABLES_PORT),
            "--max-per-peer",
            str(per_peer),
            "--max-connections",
            str(max(256, per_peer + 64)),
            *shlex.split(os.environ.get("LABKIT_TABLES_OPTIONS", "")),
        ],
        "cwd": str(STATE),
    }
]
