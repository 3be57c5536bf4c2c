"""Real servers for the tool tests: Dovecot (IMAP) with a passwd-file user and a Maildir, aiosmtpd (SMTP)
delivering into that Maildir, and Radicale (CalDAV). Each runs on a free loopback port in a temp dir and
is stopped by the test that started it. Dovecot comes from Debian (`make setup-test` installs it)."""

from __future__ import annotations

import mailbox
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from os1.testing import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class MailServer:
    imap_port: int
    smtp_port: int
    user: str
    password: str
    maildir: Path
    received: list[EmailMessage] = field(default_factory=list)
    """Every message the SMTP server accepted, as sent (envelope recipients in X-Rcpt-To)."""
    uid: int = -1
    gid: int = -1

    @property
    def address(self) -> str:
        return f"{self.user}@example.test"

    def deliver(self, msg: EmailMessage | bytes, *, folder: str | None = None) -> None:
        """Put a message in the Maildir (the INBOX, or a folder), as an MDA would."""
        md = mailbox.Maildir(self.maildir, create=True)
        box = md if folder is None else (md.get_folder(folder) if folder in md.list_folders() else md.add_folder(folder))
        box.add(mailbox.MaildirMessage(msg if isinstance(msg, bytes) else msg.as_bytes()))
        if self.uid >= 0:  # running as root: the files belong to the mail user dovecot runs as
            for root, dirs, files in os.walk(self.maildir):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), self.uid, self.gid)
            os.chown(self.maildir, self.uid, self.gid)

    def settings(self) -> dict[str, Any]:
        return {"address": self.address, "username": self.user, "imap_host": "127.0.0.1", "imap_port": self.imap_port,
                "imap_security": "none", "smtp_host": "127.0.0.1", "smtp_port": self.smtp_port, "smtp_security": "none",
                "display_name": "Theo Twombly"}


def _wait_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


@contextmanager
def mail_server(user: str = "theo", password: str = "s3cret-Pa55") -> Iterator[MailServer]:
    """Dovecot IMAP + aiosmtpd SMTP on loopback; skips when Dovecot is not installed (`make setup-test`)."""
    if not Path(DOVECOT).exists():
        if os.environ.get("OS1_TEST_REQUIRE_MAIL"):
            raise RuntimeError("dovecot is not installed")
        pytest.skip("dovecot-imapd is not installed (make setup-test installs it)")
    from aiosmtpd.controller import Controller

    base = Path(tempfile.mkdtemp(prefix="os1-mail-"))
    base.chmod(0o755)
    root = os.geteuid() == 0
    mail_uid, mail_gid = (pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid) if root else (os.getuid(), os.getgid())
    me = pwd.getpwuid(os.getuid()).pw_name
    home = base / "mail" / user
    maildir = home / "Maildir"
    maildir.mkdir(parents=True)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir()
    imap_port, smtp_port = free_port(), free_port()
    (base / "passwd").write_text(f"{user}:{{PLAIN}}{password}:{mail_uid}:{mail_gid}::{home}::\n")
    (base / "run").mkdir()
    (base / "dovecot.conf").write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
{'' if root else f'default_internal_user = {me}{chr(10)}default_login_user = {me}{chr(10)}default_internal_group = {me}'}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
""")
    if root:
        shutil.chown(home.parent, mail_uid, mail_gid)
        for p in (home, maildir, *maildir.iterdir()):
            shutil.chown(p, mail_uid, mail_gid)
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(base / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = MailServer(imap_port, smtp_port, user, password, maildir, uid=mail_uid if root else -1, gid=mail_gid if root else -1)

    class Deliver:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
            import email
            import email.policy

            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            msg["X-Rcpt-To"] = ", ".join(envelope.rcpt_tos)
            server.received.append(msg)  # type: ignore[arg-type]
            if server.address in envelope.rcpt_tos:
                server.deliver(envelope.content)
            return "250 OK"

    controller = Controller(Deliver(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        try:
            _wait_port(imap_port)
        except RuntimeError:
            proc.kill()
            out = proc.communicate()[0].decode("utf-8", "replace")
            log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not start:\n{out}\n{log}") from None
        yield server
    finally:
        controller.stop()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class DavServer:
    url: str
    user: str
    password: str


@contextmanager
def caldav_server(user: str = "theo", password: str = "cal-Pa55") -> Iterator[DavServer]:
    """Radicale (PyPI) with an htpasswd user, its storage in a temp dir, on a free loopback port."""
    base = Path(tempfile.mkdtemp(prefix="os1-dav-"))
    port = free_port()
    (base / "users").write_text(f"{user}:{password}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(base / "collections"), "--auth-type", "htpasswd",
         "--auth-htpasswd-filename", str(base / "users"), "--auth-htpasswd-encryption", "plain",
         "--rights-type", "owner_only", "--logging-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        try:
            _wait_port(port)
        except RuntimeError:
            proc.kill()
            raise RuntimeError("radicale did not start:\n" + proc.communicate()[0].decode("utf-8", "replace")) from None
        server = DavServer(f"http://127.0.0.1:{port}/", user, password)
        _make_calendar(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


def _make_calendar(server: DavServer) -> None:
    """A calendar collection for the user (Radicale starts with none), made with MKCALENDAR."""
    pm = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    pm.add_password(None, server.url, server.user, server.password)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(pm))
    req = urllib.request.Request(f"{server.url}{server.user}/personal/", method="MKCALENDAR")
    opener.open(req, timeout=10).close()
