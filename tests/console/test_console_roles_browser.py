"""The accounts page in Chromium: an admin changes a role with the page's own form (Chromium
sends its Origin header with it, which the console checks), and it applies at once."""

from __future__ import annotations

import pytest

from test_console_browser import browser, open_as  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow  # drives Chromium through the console


def test_an_admin_changes_a_role_on_the_accounts_page(browser, server, rig) -> None:  # noqa: F811
    tomo = open_as(browser, server, "tomo")
    assert tomo.goto(server + "/users").status == 403
    ada = open_as(browser, server, "ada")
    ada.goto(server + "/users")
    row = ada.locator("tr", has=ada.locator("td", has_text="tomo"))
    row.locator("select[name=role]").select_option("admin")
    row.locator("input[name=channels]").fill("")
    row.locator("button:has-text('Change')").click()
    ada.wait_for_load_state()
    assert "tomo is now admin (was approver for embassy-tokyo)" in ada.inner_text(".flash")
    assert rig.accounts.get("tomo").role == "admin"
    assert tomo.goto(server + "/users").status == 200  # the session tomo has, with the new rights
    assert any(r["action"] == "user-role" and r["actor"] == "ada" for r in rig.store.audit_rows("tomo"))
    # no form to change one's own role
    own = ada.locator("tr", has=ada.locator("td", has_text="ada"))
    assert own.locator("form[action='/users/role']").count() == 0
