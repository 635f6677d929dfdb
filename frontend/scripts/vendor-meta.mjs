// Collects licences of everything that ends up in service/static/vendor/ and writes its README.md.
//
// usage: node scripts/vendor-meta.mjs <esbuild-metafile.json> <vendor-dir> [<dmn-bundle-metafile.json>]
//
// Packages are found (1) from the esbuild metafile inputs of the modeler bundle and (2) from the
// list of files copied verbatim below (COPIED), together with the packages those prebuilt files
// embed. Every package gets LICENSES/<name>.txt; a package that ships no licence file gets a text
// generated from its package.json `license` field, and the README says so.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const [metafilePath, vendorDir, dmnMetafilePath] = process.argv.slice(2);
if (!metafilePath || !vendorDir) {
  console.error('usage: node scripts/vendor-meta.mjs <metafile> <vendor-dir>');
  process.exit(2);
}
const frontendDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const nodeModules = path.join(frontendDir, 'node_modules');

// Files copied verbatim (relative to vendorDir) -> package they come from, plus packages that the
// prebuilt file embeds (their licences are collected too).
const COPIED = [
  { file: 'bpmn/diagram-js.css', pkg: 'bpmn-js', from: 'dist/assets/diagram-js.css' },
  { file: 'bpmn/bpmn-js.css', pkg: 'bpmn-js', from: 'dist/assets/bpmn-js.css' },
  { file: 'bpmn/bpmn-font/css/bpmn.css', pkg: 'bpmn-js', from: 'dist/assets/bpmn-font/css/bpmn.css' },
  { file: 'bpmn/bpmn-font/font/bpmn.woff2', pkg: 'bpmn-js', from: 'dist/assets/bpmn-font/font/bpmn.woff2' },
  { file: 'bpmn/bpmn-font/font/bpmn.woff', pkg: 'bpmn-js', from: 'dist/assets/bpmn-font/font/bpmn.woff' },
  { file: 'bpmn/bpmn-font/font/bpmn.ttf', pkg: 'bpmn-js', from: 'dist/assets/bpmn-font/font/bpmn.ttf' },
  { file: 'bpmn/bpmn-font/font/bpmn.eot', pkg: 'bpmn-js', from: 'dist/assets/bpmn-font/font/bpmn.eot' },
  { file: 'bpmn/bpmn-font/font/bpmn.svg', pkg: 'bpmn-js', from: 'dist/assets/bpmn-font/font/bpmn.svg' },
  { file: 'bpmn/properties-panel.css', pkg: '@bpmn-io/properties-panel', from: 'dist/assets/properties-panel.css' },
  { file: 'echarts/echarts.min.js', pkg: 'echarts', from: 'echarts/core with bar, line and pie charts and the aria option (built from frontend/src/charts.js)',
    embeds: ['zrender', 'tslib'] },
  { file: 'htmx/htmx.min.js', pkg: 'htmx.org', from: 'dist/htmx.min.js' },
  ...['dmn-js-shared.css', 'dmn-js-decision-table.css', 'dmn-js-decision-table-controls.css'].map((css) =>
    ({ file: 'dmn/' + css, pkg: 'dmn-js', from: 'dist/assets/' + css })),
  { file: 'dmn/dmn-font/css/dmn.css', pkg: 'dmn-js', from: 'dist/assets/dmn-font/css/dmn.css' },
  ...['woff2', 'woff', 'ttf', 'eot', 'svg'].map((ext) =>
    ({ file: 'dmn/dmn-font/font/dmn.' + ext, pkg: 'dmn-js', from: 'dist/assets/dmn-font/font/dmn.' + ext }))
];
const BPMN_IO = new Set(['bpmn-js', 'dmn-js']); // the bpmn.io licence (MIT plus the watermark clause)

// Packages in the bundle whose published dist file already inlines another package's code.
const BUNDLE_EMBEDS = {
  '@bpmn-io/semver-compat': ['semver'] // dist/index.js is a rollup build that includes semver
};

const LICENCE_FILE = /^(licen[cs]e|copying)(\.(md|txt|markdown))?$/i;
const EXTRA_NOTICE_FILES = {
  // Apache-2.0 requires the NOTICE to travel with the work; echarts also bundles d3 code.
  echarts: ['NOTICE', 'licenses/LICENSE-d3']
};

const MIT_TEXT = (holder) => `MIT License

Copyright (c) ${holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

function readJson(p) {
  return JSON.parse(fs.readFileSync(p, 'utf8'));
}

function licenceFileName(name) {
  return name.replace(/^@/, '').replace(/\//g, '__') + '.txt';
}

function authorOf(pkg) {
  const a = pkg.author;
  if (!a) return '';
  return typeof a === 'string' ? a.replace(/\s*<[^>]*>/, '').replace(/\s*\([^)]*\)/, '') : a.name || '';
}

// package directory (absolute) -> {name, version, license, dir}
const packages = new Map();

function addPackageDir(dir, via) {
  dir = path.resolve(dir);
  if (!packages.has(dir)) {
    const pj = readJson(path.join(dir, 'package.json'));
    let license = pj.license;
    if (license && typeof license === 'object') license = license.type;
    packages.set(dir, { name: pj.name, version: pj.version, license: license || 'UNKNOWN',
      author: authorOf(pj), dir, via: new Set() });
  }
  packages.get(dir).via.add(via);
  return packages.get(dir);
}

// (1) bundle inputs: the innermost node_modules/<pkg>/ of each input path
function bundleInputs(file, bundleFile) {
  const found = new Set();
  const outputs = Object.values(readJson(file).outputs);
  if (outputs.length !== 1) throw new Error('expected one esbuild output, got ' + outputs.length);
  for (const [input, { bytesInOutput }] of Object.entries(outputs[0].inputs)) {
    if (!bytesInOutput) continue; // read but tree-shaken away entirely
    const m = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
    if (!m) continue; // our own source (src/...)
    found.add(addPackageDir(path.join(frontendDir, m[1]), bundleFile));
  }
  return found;
}
const bundleFile = 'bpmn/rectiflow-modeler.js';
const bundlePkgs = bundleInputs(metafilePath, bundleFile);
const dmnFile = 'dmn/rectiflow-dmn.js';
const dmnPkgs = dmnMetafilePath ? bundleInputs(dmnMetafilePath, dmnFile) : new Set();
// prebuilt dist files inside the bundle that themselves inline other packages
for (const info of [...bundlePkgs]) {
  for (const e of BUNDLE_EMBEDS[info.name] || []) {
    const dir = [path.join(info.dir, 'node_modules', e), path.join(nodeModules, e)].find((d) => fs.existsSync(d));
    if (!dir) throw new Error(`${info.name} embeds ${e}, which is not installed`);
    bundlePkgs.add(addPackageDir(dir, bundleFile));
  }
}

// (2) copied files and what they embed
for (const c of COPIED) {
  const info = addPackageDir(path.join(nodeModules, c.pkg), c.file);
  c.info = info;
  c.embedInfos = (c.embeds || []).map((e) => addPackageDir(path.join(nodeModules, e), c.file));
}

// write LICENSES/
const licDir = path.join(vendorDir, 'LICENSES');
fs.rmSync(licDir, { recursive: true, force: true });
fs.mkdirSync(licDir, { recursive: true });
const seenNames = new Map();
for (const info of packages.values()) {
  if (seenNames.has(info.name)) {
    const other = seenNames.get(info.name);
    if (other.version !== info.version) {
      // two copies of one package in different versions: keep both, name the second by version
      info.licenceFile = licenceFileName(info.name + '@' + info.version);
    } else {
      info.licenceFile = other.licenceFile;
      continue;
    }
  } else {
    info.licenceFile = licenceFileName(info.name);
    seenNames.set(info.name, info);
  }
  const files = fs.readdirSync(info.dir).filter((f) => LICENCE_FILE.test(f)).sort();
  let text;
  if (files.length) {
    text = files.map((f) => fs.readFileSync(path.join(info.dir, f), 'utf8').trimEnd()).join('\n\n');
    info.licenceSource = files.join(', ');
  } else if (info.license === 'MIT') {
    const holder = info.author || (info.name + ' authors');
    text = `[No licence file ships in the npm package ${info.name}@${info.version}; its package.json\n` +
      `declares "license": "MIT" and author "${holder}". Standard MIT text follows.]\n\n` + MIT_TEXT(holder).trimEnd();
    info.licenceSource = 'generated from package.json (no licence file in package)';
  } else {
    throw new Error(`no licence file in ${info.name}@${info.version} (license: ${info.license})`);
  }
  for (const extra of EXTRA_NOTICE_FILES[info.name] || []) {
    const p = path.join(info.dir, extra);
    text += `\n\n----- ${extra} -----\n\n` + fs.readFileSync(p, 'utf8').trimEnd();
    info.licenceSource += ', ' + extra;
  }
  fs.writeFileSync(path.join(licDir, info.licenceFile),
    `${info.name}@${info.version} (${info.license})\n\n${text}\n`);
}

// README.md
function sizeOf(rel) {
  return fs.statSync(path.join(vendorDir, rel)).size;
}
function sha256(rel) {
  return crypto.createHash('sha256').update(fs.readFileSync(path.join(vendorDir, rel))).digest('hex').slice(0, 16);
}
function human(n) {
  return n >= 1024 * 1024 ? (n / 1024 / 1024).toFixed(2) + ' MiB' : (n / 1024).toFixed(1) + ' KiB';
}
const pkgRef = (i) => `${i.name}@${i.version}`;
const byName = (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version);

const rows = [];
rows.push(`| \`${bundleFile}\` | ${human(sizeOf(bundleFile))} | \`${sha256(bundleFile)}\` | ` +
  `built by esbuild from \`frontend/src/modeler.js\`; bundles ${bundlePkgs.size} packages (table below) | ` +
  `bpmn.io licence (bpmn-js) + MIT/ISC/Apache-2.0 (see below) |`);
const viewerFile = 'bpmn/rectiflow-viewer.js';
rows.push(`| \`${viewerFile}\` | ${human(sizeOf(viewerFile))} | \`${sha256(viewerFile)}\` | ` +
  `built by esbuild from \`frontend/src/viewer.js\`: the read-only part of the modeler bundle (a subset of its ` +
  `packages) | bpmn.io licence (bpmn-js) + MIT (see below) |`);
rows.push(`| \`bpmn/rectiflow-bpmn.css\` | ${human(sizeOf('bpmn/rectiflow-bpmn.css'))} | ` +
  `\`${sha256('bpmn/rectiflow-bpmn.css')}\` | rectiflow's own (\`frontend/src/rectiflow-bpmn.css\`) | project licence |`);
if (dmnMetafilePath) {
  rows.push(`| \`${dmnFile}\` | ${human(sizeOf(dmnFile))} | \`${sha256(dmnFile)}\` | ` +
    `built by esbuild from \`frontend/src/dmn.js\`: dmn-js's decision table editor; bundles ${dmnPkgs.size} ` +
    `packages (listed under "All packages", used in \`${dmnFile}\`) | bpmn.io licence (dmn-js) + MIT/ISC (see below) |`);
}
for (const c of COPIED) {
  const emb = c.embedInfos.length ? '; embeds ' + c.embedInfos.map(pkgRef).join(', ') : '';
  const lic = [c.info, ...c.embedInfos].map((i) => BPMN_IO.has(i.name) ? 'bpmn.io licence' : i.license).join(' + ');
  rows.push(`| \`${c.file}\` | ${human(sizeOf(c.file))} | \`${sha256(c.file)}\` | ` +
    `${pkgRef(c.info)} \`${c.from}\`${emb} | ${lic} |`);
}

// the packages a bundled dist file inlines, said only when such a package is in the bundle
const embedders = [...bundlePkgs].map((i) => i.name).filter((n) => BUNDLE_EMBEDS[n]).sort();
const embeddedNote = embedders.map((n) => `, plus ${BUNDLE_EMBEDS[n].join(', ')}, which ${n}'s prebuilt dist file inlines`).join('');
const bundleRows = [...bundlePkgs].sort(byName).map((i) =>
  `| ${i.name} | ${i.version} | ${i.name === 'bpmn-js' ? 'bpmn.io licence (MIT + watermark clause)' : i.license} | ` +
  `\`LICENSES/${i.licenceFile}\`${/generated/.test(i.licenceSource) ? ' (generated: no licence file in package)' : ''} |`);
const allRows = [...packages.values()].sort(byName).map((i) =>
  `| ${i.name} | ${i.version} | ${i.license} | \`LICENSES/${i.licenceFile}\` | ${[...i.via].sort().join(', ')} |`);

const readme = `# Vendored front-end assets

Generated by \`frontend/build.sh\` from the npm packages pinned in \`frontend/package.json\` /
\`frontend/package-lock.json\`. **Do not edit by hand**: change \`frontend/\` and run
\`bash frontend/build.sh\`. The files are committed so that the Python package serves them with no
npm and no network (users' networks are closed; no CDN is used anywhere).

Licence texts of every package whose code or assets are in these files are in \`LICENSES/\`.

**bpmn.io watermark.** bpmn-js is distributed under the bpmn.io licence (MIT plus one clause): the
bpmn.io watermark that bpmn-js draws in the bottom-right corner of every canvas (\`.bjs-powered-by\`,
a link to https://bpmn.io) MUST NOT be removed or changed and must stay fully visible, not
overlapped by other elements. Do not hide it with CSS, do not place the properties panel or any
toolbar over it. See \`LICENSES/bpmn-js.txt\`.

## Files

| file | size | sha256 (first 16) | comes from | licence |
|---|---|---|---|---|
${rows.join('\n')}

Each script and stylesheet over 10 KiB also has a brotli copy beside it (\`<file>.br\`, quality 11,
written by \`frontend/scripts/precompress.mjs\`), which the service sends as it is to a browser that
accepts brotli, as long as it still decompresses to the file.

## Packages bundled into \`bpmn/rectiflow-modeler.js\`

Taken from the esbuild metafile (every \`node_modules\` package with at least one byte in the
bundle)${embeddedNote}.

| package | version | licence | text |
|---|---|---|---|
${bundleRows.join('\n')}

## All packages with a licence file here

| package | version | licence | text | used in |
|---|---|---|---|---|
${allRows.join('\n')}

## Using them in a page

\`\`\`html
<link rel="stylesheet" href="/static/vendor/bpmn/diagram-js.css">
<link rel="stylesheet" href="/static/vendor/bpmn/bpmn-js.css">
<link rel="stylesheet" href="/static/vendor/bpmn/bpmn-font/css/bpmn.css">
<link rel="stylesheet" href="/static/vendor/bpmn/properties-panel.css">   <!-- modeler only -->
<link rel="stylesheet" href="/static/vendor/bpmn/rectiflow-bpmn.css">     <!-- rf-* markers -->
<script src="/static/vendor/bpmn/rectiflow-modeler.js"></script>          <!-- window.RectiflowModeler -->
<script src="/static/vendor/bpmn/rectiflow-viewer.js"></script>           <!-- window.RectiflowViewer: read-only pages -->
<link rel="stylesheet" href="/static/vendor/dmn/dmn-js-shared.css">        <!-- decision tables: these four -->
<link rel="stylesheet" href="/static/vendor/dmn/dmn-js-decision-table.css">
<link rel="stylesheet" href="/static/vendor/dmn/dmn-js-decision-table-controls.css">
<link rel="stylesheet" href="/static/vendor/dmn/dmn-font/css/dmn.css">
<script src="/static/vendor/dmn/rectiflow-dmn.js"></script>               <!-- window.RectiflowDmn.DecisionTableModeler -->
<script src="/static/vendor/echarts/echarts.min.js"></script>             <!-- window.echarts (init, use): bar, line, pie -->
<script src="/static/vendor/htmx/htmx.min.js"></script>                   <!-- window.htmx -->
\`\`\`

JS API of \`rectiflow-modeler.js\` (\`window.RectiflowModeler\`):

- \`createModeler(container, propertiesContainer?, options?)\` → bpmn-js \`Modeler\` with the Camunda 7
  properties panel (\`BpmnPropertiesPanelModule\`, \`BpmnPropertiesProviderModule\`,
  \`CamundaPlatformPropertiesProviderModule\`, camunda-bpmn-js-behaviors' Camunda Platform module) and
  \`moddleExtensions: { camunda }\`. Containers are elements or CSS selectors. \`options.language: 'zh'\`
  adds the translate module with the Chinese dictionary (\`frontend/src/translations/zh.js\`).
- \`createViewer(container, options?)\` → bpmn-js \`NavigatedViewer\` (camunda moddle registered; \`language\`
  as above).
- \`highlight(diagram, {completed, active, waiting})\` → markers \`rf-completed\` / \`rf-active\` /
  \`rf-waiting\`; replaces earlier ones; returns the ids not found. \`clearHighlight(diagram)\`.
- \`markErrors(diagram, [{element_id, message}])\` → marker \`rf-error\` and an overlay (text, not
  HTML) at each element that exists; replaces earlier ones; returns the errors that could not be
  placed. \`clearErrors(diagram)\`.
- \`Modeler\`, \`NavigatedViewer\`: the bpmn-js classes themselves.

\`rectiflow-dmn.js\` (\`window.RectiflowDmn\`): \`new DecisionTableModeler({container})\`, dmn-js's
editing manager with the decision table view alone (\`importXML\`, \`saveXML\` as dmn-js documents them).
Its bpmn.io watermark is markup with \`style\` attributes; those exact values are allowed by hash in
\`style-src-attr\` (\`service/__init__.py\`). dmn-js's texts are English; a page may add a \`translate\` module in
the view options' \`decisionTable.additionalModules\` (the decisions page does, \`service/static/js/dmn-zh.js\`).

The canvas container needs a height (bpmn-js fills 100% of it). Import with
\`await modeler.importXML(xml)\`, export with \`(await modeler.saveXML({format: true})).xml\`.

Notes for page authors:

- Selecting an element from code right after \`importXML\` does not update the properties panel
  (it subscribes in a deferred effect); wait a frame first:
  \`await new Promise(r => requestAnimationFrame(() => setTimeout(r)))\`, then
  \`modeler.get('selection').select(modeler.get('elementRegistry').get(id))\`.
- Content-Security-Policy (the pages get \`PAGE_CSP\` from \`service/__init__.py\`): the bundle, echarts
  and htmx work with \`script-src 'self'\`, no \`'unsafe-eval'\` (htmx's \`hx-on\`/\`js:\` attributes would
  need it: they evaluate code with \`Function\`). Styles: bpmn-js, diagram-js, the properties panel,
  CodeMirror and ECharts' canvas set styles through the CSSOM, which the policy does not govern; what
  it does govern: bpmn-js-properties-panel parses two containers with \`style\` attributes
  (\`height: 100%\`, \`flex: none; height: auto\`: allowed by hash in \`style-src-attr\`); ECharts' HTML
  tooltips are markup with \`style\` attributes (use \`tooltip.renderMode: 'richText'\`); htmx inserts a
  \`<style>\` for its indicators unless \`includeIndicatorStyles\` is false (the \`htmx-config\` meta in
  \`base.html\`). \`bpmn-js.css\` and \`properties-panel.css\` use \`data:\` SVG images (\`img-src data:\`).
- bpmn-js ships English texts only; \`language: 'zh'\` turns the palette, context pad, menus and the
  properties panel Chinese (the documented customTranslate pattern, module \`translate\`). Other
  languages: another dictionary in \`frontend/src/translate.js\`, or a translate module of your own in
  \`options.additionalModules\`.
`;
fs.writeFileSync(path.join(vendorDir, 'README.md'), readme);

console.log(`licences: ${packages.size} packages (${bundlePkgs.size} in the bundle) -> ${licDir}`);
for (const i of [...packages.values()].sort(byName)) {
  if (/generated/.test(i.licenceSource)) console.log(`  note: ${pkgRef(i)}: ${i.licenceSource}`);
}
