#!/usr/bin/env bash
# Builds the vendored front-end assets under service/static/vendor/ from the npm packages pinned in
# package.json / package-lock.json. The output is committed: the Python package needs no npm and no
# network at run time. Needs node >= 18 and npm, and the npm registry (for `npm ci`).
#
#   bash frontend/build.sh
set -euo pipefail

FRONTEND="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENDOR="$(cd "$FRONTEND/.." && pwd)/service/static/vendor"
cd "$FRONTEND"

npm ci --no-audit --no-fund

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# One browser bundle: SOURCE as an IIFE that sets window.GLOBAL, minified, written to OUT.
bundle() {
  local source="$1" global="$2" out="$3"
  shift 3
  ./node_modules/.bin/esbuild "$source" --bundle --minify --format=iife --global-name="$global" \
    --target=es2019 --platform=browser --charset=utf8 --legal-comments=eof \
    --define:process.env.NODE_ENV='"production"' --log-level=warning --outfile="$out" "$@"
}

# Only the directories this script owns are replaced.
rm -rf "$VENDOR/bpmn" "$VENDOR/dmn" "$VENDOR/echarts" "$VENDOR/htmx" "$VENDOR/LICENSES"
mkdir -p "$VENDOR/bpmn/bpmn-font/css" "$VENDOR/bpmn/bpmn-font/font" \
         "$VENDOR/dmn/dmn-font/css" "$VENDOR/dmn/dmn-font/font" \
         "$VENDOR/echarts" "$VENDOR/htmx" "$VENDOR/LICENSES"

# 1. the modeler/viewer bundle: window.RectiflowModeler. The properties panel's code editors
#    (CodeMirror, Lezer, the FEEL editors: Camunda 8 fields only) are replaced by a stub, see
#    src/stubs/code-editors.js; the licences step collects only what is left in the bundle.
NO_CODE_EDITORS=()
for editor in @codemirror/view @codemirror/state @codemirror/language @codemirror/autocomplete \
              @codemirror/commands @codemirror/lang-json @codemirror/lint \
              @bpmn-io/feelers-editor @bpmn-io/feel-editor; do
  NO_CODE_EDITORS+=("--alias:$editor=./src/stubs/code-editors.js")
done
bundle src/modeler.js RectiflowModeler "$VENDOR/bpmn/rectiflow-modeler.js" --metafile="$WORK/meta.json" \
  "${NO_CODE_EDITORS[@]}"

# 1b. the read-only viewer bundle for the instance view: window.RectiflowViewer (its packages are a
#     subset of the modeler bundle's, whose licences step 4 collects)
bundle src/viewer.js RectiflowViewer "$VENDOR/bpmn/rectiflow-viewer.js"

# 1c. the decision table editor for the decisions page: window.RectiflowDmn (dmn-js's decision table
#     view alone, see src/dmn.js); its packages' licences come from its own metafile in step 4
bundle src/dmn.js RectiflowDmn "$VENDOR/dmn/rectiflow-dmn.js" --metafile="$WORK/dmn-meta.json"

# 2. stylesheets and the BPMN icon font (bpmn.css loads ../font/bpmn.*)
NM="$FRONTEND/node_modules"
cp "$NM/bpmn-js/dist/assets/diagram-js.css" "$VENDOR/bpmn/"
cp "$NM/bpmn-js/dist/assets/bpmn-js.css" "$VENDOR/bpmn/"
cp "$NM/bpmn-js/dist/assets/bpmn-font/css/bpmn.css" "$VENDOR/bpmn/bpmn-font/css/"
cp "$NM/bpmn-js/dist/assets/bpmn-font/font/"bpmn.{woff2,woff,ttf,eot,svg} "$VENDOR/bpmn/bpmn-font/font/"
# the stylesheet names each font by its content as the service names static files (?v= and the first
# 12 hex digits of its SHA-256, service/web/assets.py), so a browser keeps the font a year like the
# stylesheet that loads it, instead of asking for it again at each visit
for font in "$VENDOR/bpmn/bpmn-font/font/"bpmn.*; do
  name="$(basename "$font")"
  sha="$(sha256sum "$font" | cut -c1-12)"
  sed -i -E "s#\.\./font/${name//./\\.}\?[0-9a-z=]+#../font/${name}?v=${sha}#g" "$VENDOR/bpmn/bpmn-font/css/bpmn.css"
done
cp "$NM/@bpmn-io/properties-panel/dist/assets/properties-panel.css" "$VENDOR/bpmn/"
cp "$FRONTEND/src/rectiflow-bpmn.css" "$VENDOR/bpmn/"
# 2b. the decision table's stylesheets and the DMN icon font (dmn.css loads ../font/dmn.*)
for css in dmn-js-shared dmn-js-decision-table dmn-js-decision-table-controls; do
  cp "$NM/dmn-js/dist/assets/$css.css" "$VENDOR/dmn/"
done
cp "$NM/dmn-js/dist/assets/dmn-font/css/dmn.css" "$VENDOR/dmn/dmn-font/css/"
cp "$NM/dmn-js/dist/assets/dmn-font/font/"dmn.{woff2,woff,ttf,eot,svg} "$VENDOR/dmn/dmn-font/font/"
for font in "$VENDOR/dmn/dmn-font/font/"dmn.*; do
  name="$(basename "$font")"
  sha="$(sha256sum "$font" | cut -c1-12)"
  sed -i -E "s#\.\./font/${name//./\\.}\?[0-9a-z=]+#../font/${name}?v=${sha}#g" "$VENDOR/dmn/dmn-font/css/dmn.css"
done

# 3. prebuilt libraries used as they ship
cp "$NM/htmx.org/dist/htmx.min.js" "$VENDOR/htmx/"

# 3b. ECharts with the dashboard's charts only (echarts/core, which embeds zrender and tslib)
bundle src/charts.js echarts "$VENDOR/echarts/echarts.min.js"

# 4. licences of everything in the bundle (from the metafile) and in the copied files; README.md
node scripts/vendor-meta.mjs "$WORK/meta.json" "$VENDOR" "$WORK/dmn-meta.json"

# 5. brotli copies (quality 11) of the larger scripts and stylesheets, which the service sends as they are
node scripts/precompress.mjs "$VENDOR"

echo "vendored assets written to $VENDOR:"
(cd "$VENDOR" && find . -type f ! -path './LICENSES/*' -printf '%10s  %P\n' | sort -k2)
