# Shared by scripts/start and scripts/test: install what is missing, nothing more.
# Debian/Ubuntu packages through apt (as root, or with sudo), Python packages in a
# virtual environment (a stock Debian refuses `pip install` outside one: PEP 668):
# ./.venv for the app, ./.venv-test for the tests, so that test-only packages (such as
# keyrings.alt) never change what the app does. PYTHON picks the interpreter.

MULTISHOT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_debian COMMAND_OR_CHECK:PACKAGE ... — installs PACKAGE when the command is missing.
ensure_debian() {
  local wanted=() pair command package
  for pair in "$@"; do
    command=${pair%%:*}
    package=${pair#*:}
    command -v "$command" >/dev/null 2>&1 || wanted+=("$package")
  done
  install_debian "${wanted[@]}"
}

install_debian() {
  [ "$#" -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing: $* (install them with your system's package manager)." >&2
    return 1
  fi
  echo "Installing Debian packages: $*"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_python_modules — the interpreter itself needs venv and Tk.
ensure_python_modules() {
  local wanted=()
  "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 || wanted+=(python3-venv)
  "$PYTHON" -c 'import tkinter' >/dev/null 2>&1 || wanted+=(python3-tk)
  install_debian "${wanted[@]}"
}

# ensure_venv [EXTRA] — ./.venv (or ./.venv-EXTRA) with the project installed (editable),
# reinstalled when pyproject.toml changes. Sets VENV.
ensure_venv() {
  local extra=${1:-} spec="$MULTISHOT_ROOT" stamp
  VENV="$MULTISHOT_ROOT/.venv${extra:+-$extra}"
  [ -n "$extra" ] && spec="$MULTISHOT_ROOT[$extra]"
  stamp="$(sha256sum "$MULTISHOT_ROOT/pyproject.toml" | cut -c1-16)-$extra"
  # A venv made for other extras (the app and the tests once shared .venv) would keep
  # their packages: start it afresh.
  if [ -f "$VENV/.multishot-installed" ] && [ "$(cut -d- -f2- "$VENV/.multishot-installed")" != "$extra" ]; then
    rm -rf "$VENV"
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  if [ "$(cat "$VENV/.multishot-installed" 2>/dev/null)" != "$stamp" ]; then
    echo "Installing Multishot${extra:+ with its $extra extras} into $VENV"
    # setuptools warns about every editable install on stderr: show pip's output only
    # when it fails.
    if ! { "$VENV/bin/python" -m pip install --quiet --upgrade pip &&
      "$VENV/bin/python" -m pip install --quiet --editable "$spec"; } 2>"$VENV/pip.log"; then
      cat "$VENV/pip.log" >&2
      return 1
    fi
    echo "$stamp" > "$VENV/.multishot-installed"
  fi
}

# ensure_claude_code — the pinned Claude Code CLI (tests/claude-code.version) from npm into
# ./.cache/claude-code; its native binary ships inside the npm package.
ensure_claude_code() {
  local version prefix="$MULTISHOT_ROOT/.cache/claude-code"
  version=$(cat "$MULTISHOT_ROOT/tests/claude-code.version")
  command -v npm >/dev/null 2>&1 || return 0
  if [ "$("$prefix/node_modules/.bin/claude" --version 2>/dev/null | cut -d' ' -f1)" != "$version" ]; then
    echo "Installing Claude Code $version from npm into $prefix"
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error \
      "@anthropic-ai/claude-code@$version" >/dev/null
  fi
}
