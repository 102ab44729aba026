#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine (as root), then the Python venv.
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "bootstrap: apt-get install ${missing[*]}"
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_python() {
  command -v python3 >/dev/null || apt_install python3
  python3 - <<'PY' || { echo "bootstrap: Python 3.11+ is required" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
  python3 -c "import venv, ensurepip" 2>/dev/null || apt_install python3-venv
}

need_java() {
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    apt_install openjdk-17-jdk-headless maven
  fi
}

need_tools() {
  for tool in curl:curl; do command -v "${tool%%:*}" >/dev/null || apt_install "${tool##*:}"; done
  # WeasyPrint (PDF slips) renders through pango; DejaVu has the Vietnamese glyphs.
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core
  # The console's browser tests drive Debian's chromium through Playwright (its own browser download is
  # not reachable); npm fetches the console's pinned web assets.
  apt_install chromium
  command -v npm >/dev/null || apt_install npm
}

# The console's JavaScript, pinned and checked against the npm registry's integrity hash, into a git-ignored
# folder: htmx for the pages, axe-core for the accessibility test. Never copied into the repository.
WEB_ASSETS=(
  "htmx.org@2.0.4 package/dist/htmx.min.js htmx.min.js"
  "axe-core@4.10.3 package/axe.min.js axe.min.js"
)
fetch_web_assets() {
  local dest="$ROOT/services/console/static/vendor" tmp spec pkg inner name
  mkdir -p "$dest"
  for spec in "${WEB_ASSETS[@]}"; do
    read -r pkg inner name <<<"$spec"
    [ -f "$dest/$name" ] && [ -f "$dest/.$name.$pkg" ] && continue
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)  # npm pack verifies the registry's integrity hash
    tar -xzf "$tmp"/*.tgz -C "$tmp" "$inner"
    cp "$tmp/$inner" "$dest/$name" && rm -f "$dest/.$name."* && touch "$dest/.$name.$pkg"
    rm -rf "$tmp"
    echo "bootstrap: $pkg -> services/console/static/vendor/$name"
  done
}

# S3Proxy's jars from Maven Central (the tests' S3 server, and `make up`'s when asked): a no-op once lib/ holds
# what this pom.xml lists.
fetch_s3proxy() {
  "$ROOT/deploy/local/s3proxy/s3proxy.sh" fetch
}

make_venv() {
  local stamp="$VENV/.installed-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
  [ -f "$stamp" ] && return 0
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "$ROOT[dev]"
  rm -f "$VENV"/.installed-* && touch "$stamp"
}

need_python
need_java
need_tools
make_venv
fetch_web_assets
fetch_s3proxy
