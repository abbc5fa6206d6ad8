#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks, so that `./test.sh` alone works there:
# - Node.js + npm and Azurite (pinned in tools/azurite/package-lock.json): the service tests run real Azurite;
# - ffmpeg/ffprobe (Debian's package): the video tests generate and restore real clips.
# Each step runs only when its tool is missing; apt needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  apt_install ffmpeg
fi
if [ ! -x tools/azurite/node_modules/.bin/azurite ]; then
  npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error >/dev/null
fi
