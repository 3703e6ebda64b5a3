"""The table app's pages as Python objects, without Voila or a browser: what a
student's clicks do against a real tables server over real sockets.

The browser test (test_browser_table_app.py) plays them in Chromium; this
one checks each way a Join can go wrong says what to do, quickly.
"""

from __future__ import annotations

import pytest
from support import free_port

import labkit
from labkit.apps import SERVER_ENV
from labkit.apps.pages import PlayPage, WatchPage, server_address, table_number

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server():
    handle = labkit.make_server("tables", "threaded", seed=3, tables=2).start()
    yield handle
    assert handle.stop()


def message(page: PlayPage) -> str:
    return page.message.value


def test_join_shows_the_seat_and_hides_the_form(server):
    page = PlayPage(server.address, table=2)
    try:
        assert page.picker.value == 2, page.picker.options
        assert [value for _, value in page.picker.options] == [1, 2]
        page.name_box.value = "ann"
        page.join_button.click()
        assert page.table is not None and page.table.connected
        assert page.table.state.table == 2 and page.table.state.seat == 1
        assert page.table.widget in page.widget.children
        assert page.form.layout.display == "none" and message(page) == ""
    finally:
        if page.table is not None:
            page.table.close()


def test_a_bad_or_taken_name_says_so_and_the_form_stays(server):
    first, second = PlayPage(server.address), PlayPage(server.address)
    try:
        second.name_box.value = "two words"
        second.join_button.click()
        assert "no spaces" in message(second) and second.table is None
        first.name_box.value = second.name_box.value = "ann"
        first.join_button.click()
        second.join_button.click()
        assert "Someone here is called ann already" in message(second)
        assert second.table is None and second.form.layout.display != "none"
        second.name_box.value = "bob"
        second.join_button.click()
        assert second.table is not None and second.table.state.seat == 2
    finally:
        for page in (first, second):
            if page.table is not None:
                page.table.close()


def test_a_server_that_is_gone_says_what_to_do_and_try_again_works():
    port = free_port()
    page = PlayPage(("127.0.0.1", port))
    assert "cannot be reached: nothing listens there" in message(page)
    assert "Ask your instructor to start it" in message(page)
    assert page.join_button.description == "Try again"
    with labkit.make_server("tables", "threaded", port=port).start():
        page.name_box.value = "ann"
        page.join_button.click()  # asks again, finds the server, joins
        assert page.table is not None and page.table.connected, message(page)
        page.table.close()


def test_the_watch_page_watches_the_table_of_its_url(server):
    page = WatchPage(server.address, table=table_number({"table": "2"}))
    try:
        assert page.table.connected and page.table.state.watching
        assert page.table.state.table == 2
    finally:
        page.table.close()


def test_the_address_and_the_table_from_the_environment_and_the_url():
    assert server_address({SERVER_ENV: "10.0.0.5:7000"}) == ("10.0.0.5", 7000)
    assert server_address({SERVER_ENV: "[::1]:7000"}) == ("::1", 7000)
    with pytest.raises(ValueError, match="python -m labkit app --server"):
        server_address({})
    assert table_number({}) == 1
    assert table_number({"table": "3"}) == 3
    assert table_number({"table": "x"}) == 1 and table_number({"table": "0"}) == 1
