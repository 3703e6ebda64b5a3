"""The widgets, headless: clicks from Python (``Button.click()``) against real
servers over real sockets, and the page contract in the HTML they produce.

The browser half (the same table rendered by JupyterLab in Chromium) is
tests/test_browser_blackjack.py.
"""

from __future__ import annotations

import html
import io
import os
import re
import socket
import threading
from contextlib import contextmanager

import pytest
from support import wait_until

import labkit
from labkit import Limits
from labkit.blackjack import check_transcript, words
from labkit.blackjack.game import Card, hand_total, settle
from labkit.blackjack.protocol import OUTCOMES
from labkit.cli.play import play
from labkit.widgets import BlackjackTable, EchoConsole, ServerMonitor

CARD = re.compile(r'class="labkit-card[^"]*" data-card="([^"]+)"')
RESULT = re.compile(r'class="labkit-bj-result" data-outcome="(WIN|LOSE|PUSH)"')
BANNER = re.compile(r'class="labkit-bj-result"[^>]*>([^<]*)</div>')
ROUND = re.compile(r'data-round="(\d+)"')


def fd_targets() -> dict[str, str]:
    """This process's open file descriptors and what they are (for messages)."""
    targets = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return targets


def fds_left(before: dict[str, str]) -> dict[str, str]:
    return {fd: what for fd, what in fd_targets().items() if before.get(fd) != what}


def settled(server) -> None:
    """Wait until the server's own descriptors are all open: start() returns
    once the listener listens, and the accept thread opens its selector just
    after. One served connection proves it has."""
    served = server.stats.accepted
    with socket.create_connection(server.address, timeout=5):
        assert wait_until(lambda: server.stats.accepted > served)
    assert wait_until(lambda: server.stats.open == 0)


def cards_in(html: str) -> list[str]:
    return CARD.findall(html)


def enabled(table: BlackjackTable) -> set[str]:
    buttons = {
        "DEAL": table.deal_button,
        "HIT": table.hit_button,
        "STAND": table.stand_button,
    }
    return {name for name, button in buttons.items() if not button.disabled}


def play_round(table: BlackjackTable) -> None:
    """Deal, hit below 17, stand: by clicks, checking the page at each step."""
    table.deal_button.click()
    assert table.message == "", table.message
    while table.table.in_play:
        dealer = cards_in(table.dealer_html.value)
        assert len(dealer) == 2 and dealer[1] == "??", dealer
        assert RESULT.search(table.result_html.value) is None
        assert enabled(table) == set(table.actions) == {"HIT", "STAND"}
        button = table.hit_button if table.player.total < 17 else table.stand_button
        button.click()
        assert table.message == "", table.message
    assert enabled(table) == {"DEAL"}
    assert "??" not in cards_in(table.dealer_html.value)


def check_page_matches_state(table: BlackjackTable) -> None:
    dealer, player = table.hands
    assert cards_in(table.dealer_html.value) == [str(card) for card in dealer.cards]
    assert cards_in(table.player_html.value) == [str(card) for card in player.cards]
    shown = RESULT.search(table.result_html.value)
    assert shown and shown.group(1) == table.result.outcome
    rounds = {
        ROUND.search(area.value).group(1)
        for area in (table.dealer_html, table.player_html, table.result_html)
    }
    assert rounds == {str(table.rounds)}, rounds
    assert f'data-total="{player.total}"' in table.player_html.value
    assert player.total == hand_total(
        Card.parse(c) for c in cards_in(table.player_html.value)
    )
    score = table.score
    assert (
        f'data-wins="{score.wins}" data-losses="{score.losses}"'
        in table.score_html.value
    )


@pytest.fixture
def blackjack(start):
    return start("blackjack", seed=7)


@pytest.fixture
def serve():
    """labkit.serve as a notebook cell runs it; every server it started stops."""
    started = []

    def serve_again(*args, **options):
        server = labkit.serve(*args, **options)
        started.append(server)
        return server

    yield serve_again
    for server in started:
        assert server.stop(), f"{server!r} did not stop within 2 s"
        # and any that a Reconnect or the monitor started in its place
        latest = labkit.background.current(server)
        assert latest.stop(), f"{latest!r} did not stop within 2 s"


# -- the table -------------------------------------------------------------------


def test_a_full_round_by_clicks(blackjack):
    with BlackjackTable(blackjack) as table:
        assert table.connected and table.message == ""
        assert enabled(table) == {"DEAL"}
        assert cards_in(table.dealer_html.value) == []
        assert "labkit-bj-result" not in table.result_html.value
        assert "Click Deal" in table.status_html.value

        play_round(table)
        check_page_matches_state(table)
        assert table.score == table.table.score
        assert sum(vars(table.score).values()) == 1
        check_transcript(table.transcript)
        assert [line for who, line in table.transcript if who == "C"][0] == "DEAL"

        play_round(table)  # a second round on the same connection
        assert sum(vars(table.score).values()) == 2
        check_transcript(table.transcript)


def test_the_seed_deals_the_same_table_every_time(blackjack):
    # Each connection gets its own Random(seed): notebooks rely on this.
    shown = []
    for _ in range(2):
        with BlackjackTable(blackjack) as table:
            table.deal_button.click()
            shown.append(str(table))
    assert shown[0] == shown[1]
    assert shown[0].startswith("dealer: AS ??\nplayer: 5D 6H  (11)\n")


def test_a_disabled_button_sends_nothing(blackjack):
    with BlackjackTable(blackjack) as table:
        sent_before = list(table.transcript)
        assert table.hit_button.disabled and table.stand_button.disabled
        table.hit_button.click()  # runs the handler: the browser would not
        table.stand_button.click()
        assert table.transcript == sent_before
        assert table.message == "Stand is not possible now."
        table.deal_button.click()
        assert table.deal_button.disabled
        table.deal_button.click()  # a second DEAL mid-round
        assert [line for who, line in table.transcript if who == "C"] == ["DEAL"]
        assert table.table.in_play and table.connected


def test_the_transcript_panel_shows_both_ways(blackjack):
    with BlackjackTable(blackjack) as table:
        assert table.transcript_html.layout.display == "none"
        table.transcript_button.value = True
        assert table.transcript_html.layout.display is None
        table.deal_button.click()
        panel = table.transcript_html.value
        assert '<span class="labkit-line-c">C: DEAL</span>' in panel
        assert '<span class="labkit-line-s">S: HAND DEALER ? AS ??</span>' in panel


def test_the_server_gone_gives_a_message_and_disables_play(start):
    server = start("blackjack", seed=7)
    with BlackjackTable(server) as table:
        table.deal_button.click()
        assert server.stop()
        table.stand_button.click()  # must not raise
        assert not table.connected
        assert "is gone" in table.message and "Reconnect" in table.message
        assert enabled(table) == set()
        assert not table.reconnect_button.disabled
        assert "labkit-message" in table.message_html.value
        assert table.message_html.layout.display is None
        # What the table showed stays on it.
        assert cards_in(table.player_html.value) == ["5D", "6H"]


def test_reconnect_after_the_server_comes_back_on_the_same_port(start):
    server = start("blackjack", seed=7)
    with BlackjackTable(server) as table:
        play_round(table)
        assert server.stop()
        table.reconnect_button.click()
        assert not table.connected and "Nothing listens" in table.message

        start("blackjack", seed=7, port=server.port)
        table.reconnect_button.click()
        assert table.connected and table.message == ""
        assert enabled(table) == {"DEAL"} and table.score is None  # a new seat
        play_round(table)
        check_page_matches_state(table)


def test_reconnect_follows_the_server_when_its_cell_runs_again(serve):
    first = serve("blackjack", seed=7)
    with BlackjackTable(first) as table:
        play_round(table)
        second = serve("blackjack", seed=7)  # the cell run again: a new free port
        assert not first.running and second.running
        table.deal_button.click()
        assert not table.connected and "is gone" in table.message
        new = f"127.0.0.1:{second.port}"
        assert table.message.endswith(f"A new server runs on {new}: click Reconnect.")
        table.reconnect_button.click()
        assert table.connected and table.message == "", table.message
        assert table.address == second.address
        play_round(table)
        check_page_matches_state(table)
        assert second.stats.accepted == 1


def test_a_failed_reconnect_keeps_the_transcript_and_says_the_step(start):
    server = start("blackjack", seed=7)  # not labkit.serve: nothing to restart
    with BlackjackTable(server, transcript=True) as table:
        play_round(table)
        record, panel = table.transcript, table.transcript_html.value
        assert "C: STAND" in panel or "C: HIT" in panel
        assert server.stop()
        table.reconnect_button.click()
        assert not table.connected
        assert table.transcript == record and table.transcript_html.value == panel
        step = f"Start a server on 127.0.0.1:{server.port} again, then click Reconnect."
        assert table.message.startswith("Nothing listens on 127.0.0.1:")
        assert table.message.endswith(step), table.message
        assert html.escape(table.message) in table.message_html.value
        assert table.message_html.layout.display is None
        assert cards_in(table.player_html.value) == [str(c) for c in table.player.cards]

        start("blackjack", seed=7, port=server.port)  # the step
        table.reconnect_button.click()
        assert table.connected and table.message == "", table.message
        play_round(table)


def test_reconnect_starts_a_stopped_server_again_as_its_cell_did(serve):
    server = serve("blackjack", seed=7, name="widgets-restart")
    with BlackjackTable(server, transcript=True) as table:
        play_round(table)
        record = list(table.transcript)
        assert server.stop()
        table.deal_button.click()
        assert not table.connected and "is gone" in table.message
        step = "Click Reconnect to start the server again and connect."
        assert table.message.endswith(step), table.message
        assert table.transcript == [*record, ("C", "DEAL")]  # kept, to the end

        table.reconnect_button.click()  # the one step
        assert table.connected and table.message == "", table.message
        again = table.server
        assert again is not server and again.running and not server.running
        assert again is labkit.background.current(server)
        assert (again.service, again.transport, again.name, again.options) == (
            "blackjack",
            "threaded",
            "widgets-restart",
            {"seed": 7},
        )
        assert again.address == server.address  # the port was free: the same one
        table.deal_button.click()  # the same seed: the first deal of a connection
        assert [str(card) for card in table.player.cards] == ["5D", "6H"]


def test_reconnect_after_stop_all_starts_the_server_again(serve):
    server = serve("echo", name="widgets-stop-all")
    with EchoConsole(server) as console:
        assert console.send("before") == "before"
        labkit.stop_all()  # a notebook's last cell
        assert console.send("after") is None
        assert console.message.endswith(
            "Click Reconnect to start the server again and connect."
        )
        console.reconnect_button.click()
        assert console.connected and console.send("after") == "after"
        assert console.server.running and console.server.name == "widgets-stop-all"
        # the first "after" went out and met the stopped server: no answer
        sent = [("C", "before"), ("S", "before"), ("C", "after")]
        assert console.log == [*sent, ("C", "after"), ("S", "after")]


def test_an_address_is_dialled_as_given(serve):
    server = serve("blackjack", seed=7, name="widgets-address")
    address = server.address
    with BlackjackTable(address) as table:
        serve("blackjack", seed=7, name="widgets-address")  # elsewhere, not followed
        assert not table.reconnect()
        assert table.address == address
        assert table.message.endswith(
            f"Start a server on 127.0.0.1:{address[1]} again, then click Reconnect."
        ), table.message


def test_the_terminal_and_the_table_say_the_same_result(start):
    server = start("blackjack", seed=7)
    # seed 7: 11 then 13 loses to 21; 11 then 21 beats 17 (notebook 06)
    moves = [("deal", "hit", "stand"), ("deal", "hit")]
    shown = []
    with BlackjackTable(server) as table:
        for round_moves in moves:
            for move in round_moves:
                getattr(table, f"{move}_button").click()
            banner = html.unescape(BANNER.search(table.result_html.value).group(1))
            assert f"result: {banner}" in str(table).splitlines()
            shown.append(banner)
    assert shown[0] != shown[1]

    typed = "".join(f"{move[0]}\n" for round_moves in moves for move in round_moves)
    out = io.StringIO()
    assert play(*server.address, stdin=io.StringIO(typed + "q\n"), stdout=out) == 0
    said = [line for line in out.getvalue().splitlines() if line in shown]
    assert said == shown, out.getvalue()


@pytest.mark.parametrize(
    "player, dealer", [(24, 10), (20, 26), (20, 18), (13, 21), (20, 20)]
)
def test_every_result_has_its_own_sentence(player, dealer):
    result = settle(player, dealer)
    assert result.reason in OUTCOMES[result.outcome]
    assert result.reason in words.RESULT_SENTENCES
    assert str(player if result.reason != "DEALER-BUST" else dealer) in (
        words.result_text(result)
    )
    assert {r for reasons in OUTCOMES.values() for r in reasons} == set(
        words.RESULT_SENTENCES
    )


def test_nothing_listening_is_a_message_not_a_traceback():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with BlackjackTable(("127.0.0.1", port), timeout=2) as table:
        assert not table.connected
        assert table.message.startswith(f"Nothing listens on 127.0.0.1:{port}")
        assert enabled(table) == set()
        assert "Not connected" in table.status


def test_an_idle_timeout_is_explained(start):
    server = start("blackjack", seed=7, limits=Limits(idle_timeout=0.2))
    with BlackjackTable(server) as table:
        assert wait_until(lambda: server.stats.open == 0), "no idle timeout"
        table.deal_button.click()
        assert not table.connected
        assert "no command for 0.2 seconds" in table.message
        assert table.reconnect()


@contextmanager
def scripted_server(greeting: bytes, reply: bytes = b""):
    """A real socket server for one connection: a greeting, then ``reply`` to
    the first line, then it waits for the client to close."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(5)
                conn.sendall(greeting)
                if reply:
                    data = b""
                    while b"\n" not in data and (chunk := conn.recv(1024)):
                        data += chunk
                    conn.sendall(reply)
                while conn.recv(1024):
                    pass
        except OSError as exc:
            failures.append(exc)

    thread = threading.Thread(target=serve, name="test-scripted-server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()
    finally:
        thread.join(5)
        listener.close()
    assert not thread.is_alive() and not failures, failures


def test_a_server_that_sends_garbage_gets_a_clear_message():
    welcome = b"WELCOME labkit-blackjack/1 hi\r\n"
    with scripted_server(welcome, b"HAND PLAYER banana\r\n") as address:
        with BlackjackTable(address) as table:
            assert table.connected
            table.deal_button.click()  # must not raise
            assert not table.connected
            assert "broke the protocol" in table.message
            assert "HAND PLAYER banana" in table.message
            assert enabled(table) == set() and not table.reconnect_button.disabled


def test_a_server_that_is_not_blackjack_gets_a_clear_message():
    with scripted_server(b"SSH-2.0-OpenSSH_9.6\r\n") as address:
        with BlackjackTable(address) as table:
            assert not table.connected
            assert "broke the protocol" in table.message


@pytest.mark.parametrize("transport", labkit.TRANSPORTS)
def test_the_table_plays_on_every_transport(start, transport):
    server = start("blackjack", transport, seed=7)
    with BlackjackTable(server) as table:
        for _ in range(3):
            play_round(table)
            check_page_matches_state(table)
        check_transcript(table.transcript)
        assert sum(vars(table.score).values()) == 3


def test_the_table_displays_as_its_widget(blackjack):
    with BlackjackTable(blackjack) as table:
        bundle = table._repr_mimebundle_()
        view = bundle["application/vnd.jupyter.widget-view+json"]
        assert view["model_id"] == table.widget.model_id
        assert bundle["text/plain"] == str(table)
        assert "labkit-bj-table" in table.widget._dom_classes
        for name in ("deal", "hit", "stand"):
            button = getattr(table, f"{name}_button")
            assert f"labkit-bj-{name}" in button._dom_classes
        assert "labkit-bj-dealer" in table.dealer_html._dom_classes
        assert "labkit-bj-player" in table.player_html._dom_classes
        assert "labkit-bj-score" in table.score_html._dom_classes
    assert table.widget.comm is None  # closed: the views vanish
    assert "application/vnd.jupyter.widget-view+json" not in table._repr_mimebundle_()


def test_close_releases_the_socket(no_leaks, blackjack):
    settled(blackjack)
    before = fd_targets()
    tables = [BlackjackTable(blackjack) for _ in range(5)]
    for table in tables:
        table.deal_button.click()
    assert len(fds_left(before)) >= 5
    assert wait_until(lambda: blackjack.stats.open == 5)
    for table in tables:
        table.close()
    assert wait_until(lambda: not fds_left(before)), fds_left(before)
    assert wait_until(lambda: blackjack.stats.open == 0)


# -- the echo console --------------------------------------------------------------


def test_echo_console_sends_on_enter_and_logs_both_ways(start):
    server = start("echo")
    with EchoConsole(server) as console:
        console.input.value = "hello, echo"  # what Enter does in the page
        assert console.input.value == ""  # emptied, ready for the next line
        console.input.value = "hello, echo"  # the same line again is sent again
        console.input.value = "<b>tags stay text</b>"
        assert console.log == [
            ("C", "hello, echo"),
            ("S", "hello, echo"),
            ("C", "hello, echo"),
            ("S", "hello, echo"),
            ("C", "<b>tags stay text</b>"),
            ("S", "<b>tags stay text</b>"),
        ]
        assert "back: &lt;b&gt;tags stay text&lt;/b&gt;" in console.log_html.value
        console.send_button.click()  # an empty box: nothing to send
        assert len(console.log) == 6 and console.message == ""
        assert console.send("by the method") == "by the method"


def test_echo_console_explains_bad_input_and_a_gone_server(start):
    server = start("echo")
    with EchoConsole(server) as console:
        assert console.send("caf\u00e9") is None
        assert "ASCII" in console.message and console.connected
        assert console.send("still fine") == "still fine"
        assert server.stop()
        assert console.send("anyone?") is None
        assert "is gone" in console.message and not console.connected
        assert console.input.disabled and console.send_button.disabled


def test_echo_console_follows_its_server_and_keeps_its_log(serve):
    server = serve("echo", name="widgets-echo")
    with EchoConsole(server) as console:
        assert console.send("one") == "one"
        replacement = serve("echo", name="widgets-echo")  # its cell run again
        assert console.send("lost") is None
        assert console.log == [("C", "one"), ("S", "one"), ("C", "lost")]
        assert "one" in console.log_html.value
        new = f"127.0.0.1:{replacement.port}"
        assert console.message.endswith(f"A new server runs on {new}: click Reconnect.")
        console.reconnect_button.click()
        assert console.connected and console.address == replacement.address
        assert console.send("two") == "two"
        assert len(console.log) == 5


def test_echo_console_close_releases_the_socket(no_leaks, start):
    server = start("echo")
    settled(server)
    before = fd_targets()
    console = EchoConsole(server)
    assert console.send("x") == "x"
    console.close()
    assert wait_until(lambda: not fds_left(before)), fds_left(before)
    assert wait_until(lambda: server.stats.open == 0)


# -- the server monitor ------------------------------------------------------------


def test_monitor_values_follow_the_server(start):
    server = start("echo")
    with ServerMonitor(server, interval=0.02) as monitor:
        assert monitor.thread.name.startswith("labkit-monitor-echo-")
        assert monitor.values["open"] == 0 and monitor.values["running"]
        with labkit.LineClient(server) as client:
            client.send_line("ping")
            client.read_line()
            assert wait_until(lambda: monitor.values["open"] == 1)
            assert 'labkit-monitor-open" data-value="1"' in monitor.tiles_html.value
        assert wait_until(lambda: monitor.values["open"] == 0)
        assert monitor.values["served"] == 1
        assert 'labkit-monitor-served" data-value="1"' in monitor.tiles_html.value
        assert wait_until(lambda: "connection from 127.0.0.1" in monitor.log_html.value)
        assert "running" in monitor.state_html.value


def test_monitor_thread_stops_when_closed(no_leaks, start):
    server = start("echo")
    monitor = ServerMonitor(server, interval=0.02)
    assert monitor.thread.is_alive()
    monitor.close()
    assert not monitor.thread.is_alive()  # joined within close()
    assert server.running


def test_monitor_thread_stops_with_the_server_and_shows_it(start):
    server = start("echo")
    with ServerMonitor(server, interval=0.02) as monitor:
        assert server.stop()
        monitor.thread.join(2)
        assert not monitor.thread.is_alive()
        assert monitor.values["running"] is False
        assert "stopped" in monitor.state_html.value
        assert monitor.stop_button.disabled


def test_monitor_stop_button_stops_the_server(start):
    server = start("blackjack", seed=7)
    with (
        ServerMonitor(server, interval=0.02) as monitor,
        BlackjackTable(server) as table,
    ):
        assert wait_until(lambda: monitor.values["open"] == 1)
        monitor.stop_button.click()
        assert not server.running and monitor.values["running"] is False
        table.deal_button.click()
        assert not table.connected and "is gone" in table.message


def test_monitor_follows_a_server_started_again(serve):
    server = serve("echo", name="widgets-monitor")
    with ServerMonitor(server, interval=0.02) as monitor:
        assert server.stop()
        monitor.thread.join(2)
        assert not monitor.thread.is_alive()
        assert wait_until(lambda: monitor.stop_button.description == "Start again")
        assert not monitor.stop_button.disabled
        first_thread = monitor.thread

        monitor.stop_button.click()  # starts it again, as its cell did
        again = monitor.server
        assert again is not server and again.running and again.port == server.port
        assert monitor.thread is not first_thread and monitor.thread.is_alive()
        assert (
            monitor.values["running"]
            and monitor.stop_button.description == "Stop server"
        )
        with EchoConsole(server) as console:  # follows it too
            assert console.send("hi") == "hi"
            assert wait_until(lambda: monitor.values["open"] == 1)

        third = serve("echo", name="widgets-monitor")  # the cell run again
        assert monitor.server is third and monitor.thread.is_alive()
        assert f"127.0.0.1:{third.port}" in monitor.state_html.value
        assert wait_until(lambda: "listening on" in monitor.log_html.value)
        assert third.stop()
        monitor.thread.join(2)
        assert not monitor.thread.is_alive()
