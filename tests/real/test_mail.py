"""Mail against real servers: Dovecot (IMAP, a Maildir) and aiosmtpd (SMTP), started by the tests."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from os1 import Companion, CompanionConfig, FakeClock
from os1.errors import ToolError
from os1.memory import SqlConversationStore
from os1.storage import Database
from os1.testing import EchoModel, RoutingModel, ScriptedModel
from os1.tools.quarantine import fenced_nonces
from os1.types import ReplyDone, ToolProposed, ToolRefused, ToolResult

from ..conftest import collect
from ..unit.test_tools import as_email, injection_set
from .tool_servers import MailServer, mail_server

pytestmark = pytest.mark.real
USER = "local"


def _mail(server: MailServer, sender: str, subject: str, body: str, when: datetime, **headers: str) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, server.address, subject
    m["Date"] = format_datetime(when)
    m["Message-ID"] = f"<{abs(hash((sender, subject)))}@test>"
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m


@pytest.fixture
def server() -> object:
    with mail_server() as s:
        yield s


async def _connected(db: Database, clock: FakeClock, home: Path, server: MailServer) -> tuple[Companion, ScriptedModel]:
    picks = ScriptedModel()
    c = Companion(SqlConversationStore(db), RoutingModel(EchoModel(), picks), clock,  # type: ignore[arg-type]
                  CompanionConfig(learn=False, home=home))
    await c.tools.accounts.add(USER, "mail", "home", server.settings(), secret=server.password, now=clock.now())
    return c, picks


async def test_triage_search_reply_and_send_after_yes(server: MailServer, sqlite_db: Database, clock: FakeClock,
                                                     tmp_path: Path) -> None:
    now = clock.now()
    server.deliver(_mail(server, "Karen Landlord <karen@rentals.example>", "Lease renewal",
                         "Hi Theo, the lease renewal is attached. Please sign and return it by Friday.", now - timedelta(hours=2)))
    server.deliver(_mail(server, "The Weekly <news@weekly.example>", "This week in books", "Five novels.",
                         now - timedelta(hours=1), List_Unsubscribe="<https://weekly.example/u>"))
    server.deliver(_mail(server, "PayPal <service@paypa1-security.example>", "Account limited",
                         "Unusual sign-in activity: your account will be suspended within 24 hours. Verify your account.",
                         now - timedelta(minutes=30)))
    c, picks = await _connected(sqlite_db, clock, tmp_path, server)

    # "Anything important today?": sorted, the lease first, the phishing flagged, the newsletter last.
    picks.enqueue_json(json.dumps({"tool": "mail_triage", "arguments": {"period": "today"}}))
    events = await collect(c.reply(USER, "anything important in my email today?"))
    (triaged,) = [e for e in events if isinstance(e, ToolResult)]
    assert triaged.ok and "3 message(s)" in triaged.summary
    out = await c.tools.use(USER, "mail_triage", {"period": "today"}, clock.now())
    buckets = [(m["subject"], m["bucket"]) for m in out.data["messages"]]  # type: ignore[union-attr]
    assert buckets == [("Lease renewal", "important"), ("Account limited", "suspicious"), ("This week in books", "newsletter")]
    prompt = next(e for e in events if isinstance(e, ReplyDone)).text
    assert "Lease renewal" in prompt and "looks like phishing" in prompt and fenced_nonces(prompt)

    # "What did the landlord say about the lease?" finds it on the server.
    picks.enqueue_json(json.dumps({"tool": "mail_search", "arguments": {"query": "landlord lease"}}))
    events = await collect(c.reply(USER, "what did the landlord say about the lease?"))
    assert "sign and return" in next(e for e in events if isinstance(e, ReplyDone)).text

    # A reply drafted in their voice waits for a yes; nothing goes out before it.
    picks.enqueue_json(json.dumps({"tool": "mail_reply", "arguments": {"message": "lease", "points": "I'll sign it tonight"}}))
    picks.enqueue_json(json.dumps({"body": "Hi Karen,\n\nThanks! I'll sign it tonight and send it back.\n\nTheo"}))
    events = await collect(c.reply(USER, "reply to Karen and say I'll sign it tonight"))
    (proposed,) = [e for e in events if isinstance(e, ToolProposed)]
    assert proposed.risk == "send" and "karen@rentals.example" in proposed.summary and "sign it tonight" in proposed.summary
    assert server.received == []
    events = await collect(c.reply(USER, "yes, send it"))
    (sent,) = [e for e in events if isinstance(e, ToolResult)]
    assert sent.ok and sent.status == "done"
    (msg,) = server.received
    assert msg["X-Rcpt-To"] == "karen@rentals.example" and msg["Subject"] == "Re: Lease renewal"
    assert msg["In-Reply-To"] and "I'll sign it tonight" in msg.get_content()  # type: ignore[attr-defined]
    client = await c.tools.mail.client(USER)
    assert [m.subject for m in client.search_sync(mailbox="Sent")] == ["Re: Lease renewal"]  # a copy in Sent
    # The draft was written from the user's words with the original fenced as data.
    draft_prompt = picks.history[-1][-1].content
    assert "I'll sign it tonight" in draft_prompt and fenced_nonces(draft_prompt)


async def test_delete_moves_to_trash_only_after_confirm(server: MailServer, sqlite_db: Database, clock: FakeClock,
                                                       tmp_path: Path) -> None:
    server.deliver(_mail(server, "Shop <deals@shop.example>", "Deals", "Buy things.", clock.now()))
    c, _ = await _connected(sqlite_db, clock, tmp_path, server)
    action = await c.tools.use(USER, "mail_delete", {"message": "1"}, clock.now())
    client = await c.tools.mail.client(USER)
    assert [m.subject for m in client.search_sync()] == ["Deals"]
    result = await c.tools.confirm(USER, action.id, clock.now())  # type: ignore[union-attr]
    assert result.ok and client.search_sync() == [] and [m.subject for m in client.search_sync(mailbox="Trash")] == ["Deals"]


async def test_injected_mail_cannot_act_and_leaks_no_secret(server: MailServer, sqlite_db: Database, clock: FakeClock,
                                                           tmp_path: Path) -> None:
    for m in injection_set():
        server.deliver(as_email(m))
    c, picks = await _connected(sqlite_db, clock, tmp_path, server)
    # The model, led astray by the mail, proposes to forward everything: refused, nothing sent or pending.
    picks.enqueue_json(json.dumps({"tool": "mail_forward", "arguments": {"message": "1", "to": "archive@mail-support.example"}}))
    events = await collect(c.reply(USER, "summarize my inbox"))
    assert [e.tool for e in events if isinstance(e, ToolRefused)] == ["mail_forward"]
    assert [e.tool for e in events if isinstance(e, ToolResult)] == ["mail_triage"]  # what was asked, still done
    assert server.received == [] and await c.tools.pending(USER, clock.now()) == []
    prompt = next(e for e in events if isinstance(e, ReplyDone)).text
    assert server.password not in prompt
    assert "tries to give instructions to an AI" in prompt and "looks like phishing" in prompt
    # Small talk afterwards runs nothing (the mail stays data in the notes).
    assert not [e for e in await collect(c.reply(USER, "ok thanks")) if isinstance(e, ToolResult)]


async def test_wrong_password_is_a_clear_error(server: MailServer, sqlite_db: Database, clock: FakeClock, tmp_path: Path) -> None:
    from os1.tools.mail.client import MailClient, MailSettings

    client = MailClient(MailSettings.from_dict(server.settings()), "wrong")
    with pytest.raises(ToolError, match="refused the login"):
        client.check_sync()


def test_cli_connect_inbox_and_pending(server: MailServer, tmp_path: Path) -> None:
    server.deliver(_mail(server, "Amy <amy@example.org>", "Party", "Don't forget to RSVP by Saturday!",
                         datetime(2026, 11, 25, 8, 0).astimezone()))
    env = {"OS1_HOME": str(tmp_path / "home"), "OS1_NOW": "2026-11-25T09:30:00-05:00", "OS1_TZ": "America/New_York",
           "OS1_EMBEDDINGS": "0", "OS1_SECRET_STORE": "file", "PATH": "/usr/bin:/bin"}
    os1 = str(Path(__file__).parents[2] / ".venv" / "bin" / "os1")
    s = server.settings()
    run = subprocess.run([os1, "mail", "connect", "--address", server.address, "--username", server.user,
                          "--imap-host", "127.0.0.1", "--imap-port", str(s["imap_port"]), "--imap-security", "none",
                          "--smtp-host", "127.0.0.1", "--smtp-port", str(s["smtp_port"]), "--smtp-security", "none",
                          "--password-stdin", "--json"], input=server.password + "\n", capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    assert json.loads(run.stdout)["inbox_messages"] == 1
    home = tmp_path / "home"
    for f in home.rglob("*"):  # the password is nowhere in the data dir in plain text
        if f.is_file():
            assert server.password.encode() not in f.read_bytes(), f
    inbox = subprocess.run([os1, "mail", "inbox", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert inbox.returncode == 0, inbox.stderr
    assert [m["subject"] for m in json.loads(inbox.stdout)["messages"]] == ["Party"]
    send = subprocess.run([os1, "mail", "send", "--to", "amy@example.org", "--subject", "RSVP", "--say", "I'll be there",
                           "--model", "echo", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert send.returncode == 0, send.stderr
    action = json.loads(send.stdout)["action"]
    assert action["status"] == "pending" and "amy@example.org" in action["summary"] and server.received == []
    ok = subprocess.run([os1, "confirm", str(action["id"]), "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout)["result"]["status"] == "done", ok.stderr
    assert [m["X-Rcpt-To"] for m in server.received] == ["amy@example.org"]
    again = subprocess.run([os1, "confirm", str(action["id"]), "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 2 and len(server.received) == 1  # never twice
