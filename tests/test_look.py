"""Issue 13 on a real X server: keys, window sizes, the wizard's words, 2x scaling, theme.

The wizard here has a host without workers (tests/scenes/setup.py): each test sets
the state a worker would bring, through the wizard's own handlers. The app-level
flows (real checks, the keychain, runs) are in test_tray.py.
"""

from __future__ import annotations

import contextlib
import gc
import shlex
import sys
import time
import tkinter as tk
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any

import pytest

from tests.scenes import load_scenes
from tests.scenes.setup import (
    API_KEY,
    DAYTONA_KEY,
    NO_ANSWER,
    WORKS,
    SceneHost,
    checking,
    wizard_at,
)
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.credentials.validation import CredentialsCheck
from tray.failures import FailureKind
from tray.runs.spec import RunSpec
from tray.ui import style
from tray.ui.alerts import AlertWindow
from tray.ui.dbus_service import Interface, Method, ObjectServer
from tray.ui.dialogs import ActionsWindow, NewRunDialog
from tray.ui.menu import MenuState
from tray.ui.messages import failure_notice, log_out_question
from tray.ui.wizard import CheckState, SetupWizard

pytestmark = pytest.mark.usefixtures("display")

POINTS_PER_INCH = 72


def press(widget: tk.Misc, key: str) -> None:
    """A key pressed while ``widget`` has the keyboard focus (Tk sends keys there)."""
    widget.update()
    widget.focus_force()
    widget.update()
    widget.event_generate(key)
    widget.update()


def take_focus(window: tk.Toplevel) -> None:
    """Give the app the keyboard focus, as a click on its first window would (no window
    manager here does it); from then on the app moves it between its widgets."""
    window.update()
    (window.focus_lastfor() or window).focus_force()
    window.update()


def focused(window: tk.Toplevel) -> tk.Misc | None:
    window.update()
    return window.focus_get()


def text_of(label: tk.Misc) -> str:
    return str(label.cget("text"))


def focus_chain(start: tk.Misc) -> list[tk.Misc]:
    """Every widget Tab visits from ``start`` until it comes back round."""
    start.update()  # what was hidden is unmapped
    chain = [start]
    widget = start.tk_focusNext()
    while widget is not None and widget is not start and len(chain) < 50:
        chain.append(widget)
        widget = widget.tk_focusNext()
    return chain


# -- keys ---------------------------------------------------------------------------------


def test_return_acts_on_the_focused_button_and_otherwise_on_the_default(root: tk.Tk) -> None:
    wizard = SetupWizard(SceneHost(root))
    wizard.daytona_entry.set(DAYTONA_KEY)
    press(wizard.daytona_entry.entry, "<Return>")  # in the field: the default, Next
    steps = [wizard.step]
    press(wizard.back_button, "<Return>")  # on Back: Back, not Next
    steps.append(wizard.step)
    assert steps == [SetupStep.METHOD, SetupStep.DAYTONA]
    closed: list[bool] = []
    wizard.on_close = lambda: closed.append(True)
    press(wizard.cancel_button, "<Return>")  # Cancel focused + Return = cancel
    assert closed == [True]
    assert not wizard.top.winfo_exists()


def test_space_presses_the_focused_button_and_escape_cancels(root: tk.Tk) -> None:
    wizard = wizard_at(root, SetupStep.CLAUDE)
    press(wizard.back_button, "<space>")
    assert wizard.step is SetupStep.METHOD
    press(wizard.token_radio, "<Escape>")
    assert not wizard.top.winfo_exists()


def test_tab_reaches_the_get_key_links_and_return_opens_them(
    root: tk.Tk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened"
    record = f"import sys; open({str(opened)!r}, 'a').write(sys.argv[1])"
    monkeypatch.setenv("BROWSER", f"{shlex.quote(sys.executable)} -c {shlex.quote(record)} %s")
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read BROWSER afresh
    wizard = SetupWizard(SceneHost(root))
    assert wizard.daytona_link in focus_chain(wizard.daytona_entry.entry)
    press(wizard.daytona_link, "<Return>")
    assert wizard.step is SetupStep.DAYTONA  # the link, not Next
    wizard.daytona_entry.set(DAYTONA_KEY)
    wizard.next()
    wizard.next()
    assert wizard.console_link in focus_chain(wizard.claude_entry.entry)
    deadline = time.monotonic() + 30
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert opened.read_text() == "https://app.daytona.io/dashboard/keys"


def test_the_method_step_focuses_the_chosen_radio_and_arrows_move_between_them(
    root: tk.Tk,
) -> None:
    wizard = SetupWizard(SceneHost(root))
    take_focus(wizard.top)
    wizard.daytona_entry.set(DAYTONA_KEY)
    wizard.next()
    assert focused(wizard.top) is wizard.api_key_radio
    press(wizard.api_key_radio, "<Down>")
    assert wizard.method.get() == AuthMethod.OAUTH_TOKEN.value
    assert focused(wizard.top) is wizard.token_radio
    press(wizard.token_radio, "<Up>")
    assert wizard.method.get() == AuthMethod.API_KEY.value
    # Tab enters the group at the chosen radio only, and leaves it.
    chain = focus_chain(wizard.api_key_radio)
    assert wizard.token_radio not in chain
    assert wizard.next_button in chain
    press(wizard.api_key_radio, "<Return>")  # on a radio: the default button, Next
    assert wizard.step is SetupStep.CLAUDE


def test_new_run_tab_leaves_the_prompt_and_ctrl_enter_starts_from_anywhere(
    root: tk.Tk,
) -> None:
    started: list[RunSpec] = []
    dialog = NewRunDialog(root, started.append)
    take_focus(dialog.top)
    dialog.prompt.insert("1.0", "Fix the bug")
    press(dialog.prompt, "<Tab>")
    assert dialog.prompt.get("1.0", "end-1c") == "Fix the bug"  # no tab typed
    assert focused(dialog.top) is not dialog.prompt
    press(dialog.prompt, "<Control-Tab>")
    assert dialog.prompt.get("1.0", "end-1c") == "Fix the bug\t"
    dialog.prompt.delete("end-2c")
    press(dialog.prompt, "<Return>")  # a new line in the prompt, not a start
    assert started == []
    press(dialog.shots_box, "<Control-Return>")
    (spec,) = started
    assert spec.prompt == "Fix the bug\n"
    assert not dialog.top.winfo_exists()


def test_new_run_return_on_cancel_cancels_and_escape_closes(root: tk.Tk) -> None:
    started: list[RunSpec] = []
    dialog = NewRunDialog(root, started.append)
    dialog.prompt.insert("1.0", "Fix the bug")
    press(dialog.cancel_button, "<Return>")
    assert not dialog.top.winfo_exists()
    dialog = NewRunDialog(root, started.append)
    press(dialog.prompt, "<Escape>")
    assert not dialog.top.winfo_exists()
    assert started == []


def test_a_destructive_question_keeps_the_safe_answer_on_return(root: tk.Tk) -> None:
    question = log_out_question(1)
    assert (question.accept, question.reject) == ("Log out", "Keep running")
    window = AlertWindow.asking(root, question)
    take_focus(window.top)
    assert text_of(window.accept_button) == "Log out"
    assert window.reject_button is not None
    assert text_of(window.reject_button) == "Keep running"
    assert focused(window.top) is window.reject_button
    press(window.reject_button, "<Return>")
    assert window.answer is False
    window = AlertWindow.asking(root, question)
    press(window.accept_button, "<Return>")
    assert window.answer is True
    window = AlertWindow.asking(root, question)
    press(window.top, "<Return>")  # on no button: the default, the safe answer
    assert window.answer is False
    window = AlertWindow.asking(root, question)
    press(window.accept_button, "<Escape>")
    assert window.answer is False
    assert not window.top.winfo_exists()


class RecordedActions:
    """The menu's actions, each recording its name when called."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *_args: self.called.append(name)


@pytest.mark.parametrize(
    ("stored", "waiting", "default"),
    [
        (True, False, "new_run"),
        (True, True, "fix_credentials"),
        (False, False, "setup_credentials"),
    ],
)
def test_the_actions_windows_default_is_what_the_user_came_for(
    root: tk.Tk, stored: bool, waiting: bool, default: str
) -> None:
    state = MenuState(stored, ("Claude: API key sk-ant-…Ab12",) if stored else (), waiting)
    actions = RecordedActions()
    window = ActionsWindow(root, state, actions)
    take_focus(window.top)
    assert focused(window.top) is window.default_button
    press(window.top, "<Escape>")
    assert (actions.called, window.top.winfo_exists()) == ([], 0)
    window = ActionsWindow(root, state, actions)
    press(window.top, "<Return>")
    assert actions.called == [default]
    assert not window.top.winfo_exists()


def test_buttons_follow_the_platforms_order(root: tk.Tk) -> None:
    """GNOME/macOS: Cancel then OK (OK at the right edge); Windows: OK then Cancel."""
    dialog = NewRunDialog(root, lambda _spec: None)
    dialog.top.update()
    start_x, cancel_x = dialog.start_button.winfo_rootx(), dialog.cancel_button.winfo_rootx()
    assert (start_x > cancel_x) is (sys.platform != "win32")


# -- the wizard: sizes and words ----------------------------------------------------------


def size_of(window: tk.Toplevel) -> tuple[int, int]:
    window.update()
    return window.winfo_width(), window.winfo_height()


def test_the_wizard_keeps_one_size_through_every_step_and_state(root: tk.Tk) -> None:
    wizard = SetupWizard(SceneHost(root))
    first = size_of(wizard.top)
    sizes = {"daytona": first}
    wizard.next()  # an empty key: an error
    sizes["daytona error"] = size_of(wizard.top)
    wizard.daytona_entry.set(DAYTONA_KEY)
    wizard.next()
    sizes["method"] = size_of(wizard.top)
    wizard.token_radio.invoke()
    wizard.next()
    sizes["token"] = size_of(wizard.top)
    wizard.claude_entry.set("sk-ant-api03-" + "x" * 60)  # the wrong kind: a long error
    wizard.next()
    sizes["token error"] = size_of(wizard.top)
    wizard.back()
    wizard.api_key_radio.invoke()
    wizard.next()
    wizard.claude_entry.set(API_KEY)
    wizard.next()
    sizes["checking"] = size_of(wizard.top)
    wizard._checked(CredentialsCheck(WORKS, NO_ANSWER))
    sizes["could not check"] = size_of(wizard.top)
    wizard._saved()
    sizes["done"] = size_of(wizard.top)
    assert set(sizes.values()) == {first}, sizes


def test_the_wizard_says_which_step_and_greets_only_a_new_user(root: tk.Tk) -> None:
    wizard = wizard_at(root, SetupStep.METHOD)
    gc.collect()  # the heading's font outlives whatever made it
    heading_font = ttk.Style(root).lookup(str(wizard.heading.cget("style")), "font")
    assert tkfont.nametofont(heading_font, root=root).actual("weight") == "bold"
    assert text_of(wizard.step_label) == "Step 2 of 4"
    wizard.back()
    assert (text_of(wizard.step_label), text_of(wizard.heading)) == (
        "Step 1 of 4",
        "Welcome to Multishot",
    )
    wizard.close()
    current = Credentials(DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=API_KEY)
    again = SetupWizard(SceneHost(root), current=current)
    assert text_of(again.heading) == "Update your Multishot credentials"
    assert not again.reason.winfo_ismapped()  # no reason given, none shown


def test_an_error_goes_as_soon_as_a_valid_key_is_typed(root: tk.Tk) -> None:
    wizard = SetupWizard(SceneHost(root))
    wizard.daytona_entry.set(API_KEY)
    wizard.next()
    assert "not a Daytona key" in text_of(wizard.daytona_error)
    wizard.daytona_entry.set("dtn_")  # still wrong: the error stays until Next
    assert "not a Daytona key" in text_of(wizard.daytona_error)
    wizard.daytona_entry.set(DAYTONA_KEY)
    assert text_of(wizard.daytona_error) == ""
    assert wizard.step is SetupStep.DAYTONA


def test_while_checking_a_moving_bar_and_cancel_then_retry_or_save_anyway(root: tk.Tk) -> None:
    wizard = checking(root)
    wizard.top.update()
    assert wizard.check_state is CheckState.CHECKING
    assert wizard.progress.winfo_ismapped()
    assert str(wizard.progress.cget("mode")) == "indeterminate"
    before = float(wizard.progress.cget("value"))
    wizard.progress.step(1)  # it is running: its value moves
    assert float(wizard.progress.cget("value")) != before
    for hidden in (wizard.next_button, wizard.save_anyway_button):
        assert not hidden.winfo_ismapped()  # no disabled "Save anyway" while checking
    assert wizard.cancel_button.winfo_ismapped()
    assert wizard.cancel_button.instate(["!disabled"])
    wizard._checked(CredentialsCheck(WORKS, NO_ANSWER))
    wizard.top.update()
    assert not wizard.progress.winfo_ismapped()  # stopped and gone
    assert text_of(wizard.heading) == "Could not check your keys"
    assert text_of(wizard.next_button) == "Retry"
    assert wizard.save_anyway_button.winfo_ismapped()
    said = text_of(wizard.claude_result)
    assert said.startswith("⚠ Anthropic API key: not checked. Anthropic's API did not answer")
    assert text_of(wizard.daytona_result) == "✓ Daytona API key: The Daytona API key works."
    wizard.next_button.invoke()  # Retry
    assert wizard.check_state is CheckState.CHECKING
    wizard.back_button.invoke()  # stop checking
    assert wizard.step is SetupStep.CLAUDE
    wizard._checked(CredentialsCheck(WORKS, NO_ANSWER))  # late: a stopped check is ignored
    assert wizard.step is SetupStep.CLAUDE


def test_success_says_so_and_offers_a_run(root: tk.Tk) -> None:
    runs: list[bool] = []
    host = SceneHost(root)
    host.new_run = lambda: runs.append(True)  # type: ignore[method-assign]
    wizard = SetupWizard(host)
    take_focus(wizard.top)
    wizard.daytona_entry.set(DAYTONA_KEY)
    wizard.next()
    wizard.next()
    wizard.claude_entry.set(API_KEY)
    wizard.next()
    wizard._checked(CredentialsCheck(WORKS, WORKS))
    assert wizard.check_state is CheckState.SAVING
    wizard._saved()
    assert text_of(wizard.heading) == "You're set"
    assert text_of(wizard.done_text).startswith("Your keys work and are saved.")
    assert focused(wizard.top) is wizard.start_run_button
    press(wizard.start_run_button, "<Return>")
    assert runs == [True]
    assert not wizard.top.winfo_exists()


def test_help_text_has_no_markdown(root: tk.Tk) -> None:
    wizard = wizard_at(root, SetupStep.CLAUDE, AuthMethod.OAUTH_TOKEN)
    help_text = text_of(wizard.claude_help)
    assert "“claude setup-token”" in help_text
    assert "`" not in help_text
    wizard.claude_entry.set("sk-ant-ort01-" + "r" * 40)  # a refresh token: the core says `…`
    wizard.next()
    error = text_of(wizard.claude_error)
    assert "claude setup-token" in error
    assert "`" not in error
    notice = failure_notice(FailureKind.EXPIRED)  # a notification shows no Markdown either
    assert "(run “claude setup-token”)" in notice.body


# -- scaling and theme --------------------------------------------------------------------


@pytest.fixture
def scaled_roots(root: tk.Tk) -> Iterator[list[tk.Tk]]:
    """Roots made by the test; the display's scaling is put back afterwards (Tk keeps
    it per display, for every interpreter on it)."""
    original = float(root.tk.call("tk", "scaling"))
    roots: list[tk.Tk] = []
    yield roots
    root.tk.call("tk", "scaling", original)
    for made in roots:
        with contextlib.suppress(tk.TclError):  # the test destroyed it
            made.destroy()


def wizard_at_scale(factor: float, roots: list[tk.Tk]) -> tuple[tk.Tk, SetupWizard]:
    made = tk.Tk()
    made.withdraw()
    roots.append(made)
    made.tk.call("tk", "scaling", factor * 96 / POINTS_PER_INCH)
    return made, SetupWizard(SceneHost(made))


def test_at_2x_padding_wrap_and_images_double_and_the_wizard_grows_no_more(
    scaled_roots: list[tk.Tk],
) -> None:
    one, wizard = wizard_at_scale(1, scaled_roots)
    assert (style.pad(one), style.wrap(one)) == (8, 420)
    width, height = size_of(wizard.top)
    check_box = int(one.tk.eval("image width $::ttk::theme::sv_light::I(check-unsel-rest)"))
    one.destroy()
    two, wizard = wizard_at_scale(2, scaled_roots)
    assert (style.pad(two), style.wrap(two)) == (16, 840)
    assert int(two.tk.eval("image width $::ttk::theme::sv_light::I(check-unsel-rest)")) == (
        2 * check_box
    )
    assert int(str(wizard.daytona_error.cget("wraplength"))) == 840
    width2, height2 = size_of(wizard.top)
    # Twice the size, give or take the fonts' rounding: not more (the wrap width and
    # padding scale with the text, so nothing wraps into extra lines).
    assert 1.8 < width2 / width < 2.2
    assert 1.8 < height2 / height < 2.2


def test_on_x11_the_scaling_comes_from_the_xft_dpi_resource(
    scaled_roots: list[tk.Tk], display: str
) -> None:
    """What a desktop set at 192 dpi says, whatever size the X server claims."""
    from Xlib import Xatom
    from Xlib.display import Display

    connection = Display(display)
    screen_root = connection.screen().root
    resources = connection.intern_atom("RESOURCE_MANAGER")
    screen_root.change_property(resources, Xatom.STRING, 8, b"Xft.dpi:\t192\n")
    connection.sync()
    try:
        made = tk.Tk()
        made.withdraw()
        scaled_roots.append(made)
        assert style.scale(made) < 1.5  # Xvfb's own idea
        style.ensure_theme(made)
        assert style.scale(made) == 2.0
        assert style.pad(made) == 16
    finally:
        screen_root.delete_property(resources)
        connection.sync()
        connection.close()


def test_the_theme_follows_the_requested_darkness(
    scaled_roots: list[tk.Tk], monkeypatch: pytest.MonkeyPatch
) -> None:
    for wanted, theme in (("dark", "sun-valley-dark"), ("light", "sun-valley-light")):
        monkeypatch.setenv(style.THEME_ENV, wanted)
        made = tk.Tk()
        made.withdraw()
        scaled_roots.append(made)
        style.ensure_theme(made)
        assert made.tk.eval("set ::ttk::currentTheme") == theme
        assert style.palette(made).dark is (wanted == "dark")
        made.destroy()


@contextlib.contextmanager
def settings_portal(method: str, answer: Any) -> Iterator[list[tuple[str, str]]]:
    """A stand-in for xdg-desktop-portal's Settings on the test's session bus, with only
    ``method`` (ReadOne, or Read as portals before 2023 had it); what it was asked."""
    asked: list[tuple[str, str]] = []

    def read(namespace: str, key: str) -> tuple[Any, ...]:
        asked.append((namespace, key))
        return (answer,)

    settings = Interface(
        "org.freedesktop.portal.Settings", {method: Method("ss", "v", read)}, {}, dict
    )
    server = ObjectServer({"/org/freedesktop/portal/desktop": [settings]}, lambda *_: None)
    server.connect(["org.freedesktop.portal.Desktop"], [])
    server.serve_in_thread("portal-standin")
    try:
        yield asked
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("method", "answer", "dark"),
    [
        ("ReadOne", ("u", 1), True),
        ("ReadOne", ("u", 2), False),
        ("Read", ("v", ("u", 1)), True),  # an old portal: a variant in a variant
    ],
)
def test_the_settings_portal_decides_dark_or_light(
    monkeypatch: pytest.MonkeyPatch, method: str, answer: Any, dark: bool
) -> None:
    monkeypatch.delenv(style.THEME_ENV, raising=False)
    monkeypatch.setenv("GTK_THEME", "Adwaita" if dark else "Adwaita:dark")  # the portal wins
    with settings_portal(method, answer) as asked:
        assert style.desktop_prefers_dark() is dark
    assert asked == [("org.freedesktop.appearance", "color-scheme")]


def test_a_dark_gtk_setting_is_followed_without_a_portal(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (style.THEME_ENV, "GTK_THEME", "DBUS_SESSION_BUS_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    assert style.desktop_prefers_dark() is False
    settings = isolated_home / "config" / "gtk-3.0" / "settings.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text("[Settings]\ngtk-application-prefer-dark-theme=1\n")
    assert style.desktop_prefers_dark() is True
    monkeypatch.setenv("GTK_THEME", "Adwaita:dark")
    settings.unlink()
    assert style.desktop_prefers_dark() is True


@pytest.mark.parametrize("name", sorted(load_scenes()))
def test_every_screenshot_scene_builds(root: tk.Tk, name: str) -> None:
    window = load_scenes()[name].build(root)
    window.update()
    assert window.winfo_width() > 100
    assert window.winfo_toplevel().winfo_viewable()
    window.winfo_toplevel().destroy()
