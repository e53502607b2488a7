#!/usr/bin/env node
// Package check, run by .ci/run after the tests: the npm package works where users get it.
//
//   node scripts/pack-check.mjs [--tarball FILE] [--keep]        (npm run pack:check)
//
// 1. `npm pack` into a temporary directory (prepack: clean dist/, codegen, tsc), then the tarball's
//    list of files against what the package may hold: package.json, README, LICENSE, dist/src/**/*.js,
//    dist/graphiql/ (the vendored GraphiQL bundle) and schema/*.graphql (every file of schema/); no
//    TypeScript, source map, test, bench or doc.
// 2. `npm install TARBALL` into another, empty, directory: its dependencies come from the registry,
//    as for a user (package.json#overrides do not apply there). tsx must not be installed.
// 3. `npx veeam-graph --version` prints package.json's version.
// 4. `veeam-graph demo --port 0`: waits for the GraphQL URL it prints, POSTs `{ sources { name } }`
//    (5 simulated servers expected), GETs the GraphiQL page and its bundle (the package's own copy
//    in dist/graphiql; @graphql-yoga/graphiql must not be installed), then SIGTERM: exit code 0 expected.
// 5. `veeam-graph sim --write-config FILE` and `veeam-graph serve --config FILE --port 0`: waits
//    for "veeam-graph listening on URL" on stderr, the same query, SIGTERM to both: exit code 0.
// Every wait is bounded; a failure says what was expected and shows the output of the step.
// NODE_OPTIONS, PORT, HOST, LOG_* and VEEAM_GRAPH_CONFIG are removed from the environment of the
// runs, so nothing (e.g. `--import tsx`) helps the installed package. The temporary directories
// are removed at the end (--keep leaves them and prints where). --tarball FILE skips step 1's
// pack and checks FILE. Exits 0 when everything passed, 1 on the first failure, 2 on bad usage.
/* global fetch, AbortSignal */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const TIMEOUT = {
  pack: 300_000,
  install: 300_000,
  version: 30_000,
  start: 30_000,
  request: 15_000,
  stop: 30_000,
};
const EXPECTED_SOURCES = 5;

class CheckError extends Error {}

function parseArgs(argv) {
  const args = { tarball: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tarball') {
      args.tarball = argv[++i];
      if (!args.tarball) usage('--tarball needs a file');
    } else if (a === '--keep') args.keep = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/pack-check.mjs [--tarball FILE] [--keep]');
      process.exit(0);
    } else usage(`unknown argument ${a}`);
  }
  return args;
}

function usage(message) {
  console.error(`pack-check: ${message}\nusage: node scripts/pack-check.mjs [--tarball FILE] [--keep]`);
  process.exit(2);
}

const log = (line) => console.log(`pack-check: ${line}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const kB = (bytes) => `${(bytes / 1024).toFixed(0)} kB`;

/** The environment of every child: the caller's, minus what would change how the package runs. */
function childEnv() {
  const env = { ...process.env };
  for (const name of ['NODE_OPTIONS', 'PORT', 'HOST', 'LOG_LEVEL', 'LOG_FORMAT', 'VEEAM_GRAPH_CONFIG']) delete env[name];
  return env;
}

/** Last `n` lines of a process's output, indented, for a failure message. */
function tail(text, n = 40) {
  if (!text.trim()) return '';
  const lines = text.trimEnd().split('\n');
  const shown = lines.slice(-n).map((l) => `    ${l}`);
  return (lines.length > n ? [`    ... (${lines.length - n} lines before)`, ...shown] : shown).join('\n');
}

function outputOf(proc) {
  return `  stdout of ${proc.label}:\n${tail(proc.stdout) || '    (empty)'}\n  stderr of ${proc.label}:\n${tail(proc.stderr) || '    (empty)'}`;
}

/** Every child started, so a failure or an interrupt can stop what is still running. */
const started = new Set();

/**
 * Starts a child in its own process group (so a timeout can stop it together with what it started,
 * e.g. npm's scripts) and collects its output.
 */
function start(label, command, args, options) {
  const child = spawn(command, args, { cwd: options.cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const proc = { label, child, stdout: '', stderr: '', listeners: new Set() };
  for (const stream of ['stdout', 'stderr']) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk) => {
      proc[stream] += chunk;
      for (const l of proc.listeners) l();
    });
  }
  proc.exited = new Promise((resolve) => {
    child.on('error', (err) => resolve({ code: null, signal: null, error: err }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  }).then((result) => {
    started.delete(proc);
    for (const l of proc.listeners) l();
    return result;
  });
  proc.done = false;
  void proc.exited.then(() => (proc.done = true));
  started.add(proc);
  return proc;
}

/** Sends `signal` to a child's whole process group (the child and whatever it started). */
function killGroup(proc, signal = 'SIGKILL') {
  if (proc.done) return;
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs a command to its end within `timeoutMs`; fails on a timeout or a non-zero exit. */
async function run(label, command, args, { cwd, timeoutMs }) {
  const t0 = performance.now();
  const proc = start(label, command, args, { cwd });
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    killGroup(proc);
    await proc.exited;
    throw new CheckError(`${label}: no exit within ${seconds(timeoutMs)} (stopped)\n${outputOf(proc)}`);
  }
  if (result.error) throw new CheckError(`${label}: could not start ${command}: ${result.error.message}`);
  if (result.code !== 0) throw new CheckError(`${label}: exit code ${result.code ?? result.signal}, expected 0\n${outputOf(proc)}`);
  return { ...proc, ms: performance.now() - t0 };
}

/**
 * Waits until `match` (called on the process's output) returns something, the process exits, or
 * `timeoutMs` passes; fails in the latter two cases, naming `what`.
 */
function waitFor(proc, what, match, timeoutMs) {
  return new Promise((resolve, reject) => {
    const finish = (fn, value) => {
      clearTimeout(timer);
      proc.listeners.delete(check);
      fn(value);
    };
    const check = () => {
      const found = match(proc);
      if (found) return finish(resolve, found);
      if (proc.done) finish(reject, new CheckError(`${proc.label}: exited before ${what}\n${outputOf(proc)}`));
    };
    const timer = setTimeout(() => finish(reject, new CheckError(`${proc.label}: no ${what} within ${seconds(timeoutMs)}\n${outputOf(proc)}`)), timeoutMs);
    proc.listeners.add(check);
    check();
  });
}

/** SIGTERM to the process itself (not its group), then its exit code, which must be 0. */
async function stopGracefully(proc) {
  proc.child.kill('SIGTERM');
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), TIMEOUT.stop)));
  const result = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    killGroup(proc);
    throw new CheckError(`${proc.label}: still running ${seconds(TIMEOUT.stop)} after SIGTERM (killed)\n${outputOf(proc)}`);
  }
  if (result.code !== 0) throw new CheckError(`${proc.label}: exit code ${result.code ?? result.signal} after SIGTERM, expected 0\n${outputOf(proc)}`);
}

/** The file list of a .tgz (npm pack's ustar), without a tar binary: path, size, mode. */
function listTarball(file) {
  const data = gunzipSync(readFileSync(file));
  const entries = [];
  let longName;
  for (let offset = 0; offset + 512 <= data.length;) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = text(156, 1) || '0';
    const prefix = text(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
    longName = undefined;
    const body = data.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '') entries.push({ path: name.replace(/^package\//, ''), size, mode: parseInt(text(100, 8).trim() || '0', 8) });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** The tarball's files against what the package may hold; returns a one-line summary of them. */
function checkContents(entries) {
  const allowed = [
    /^package\.json$/,
    /^README\.md$/,
    /^LICEN[CS]E(\.\w+)?$/i,
    /^dist\/src\/.+\.js$/,
    // The vendored GraphiQL bundle (scripts/vendor-graphiql.mjs): its files, licence and note.
    /^dist\/graphiql\/[\w./-]+\.(js|css)$/,
    /^dist\/graphiql\/(LICENSE|README\.md)$/,
    /^schema\/[\w-]+\.graphql$/,
  ];
  const problems = [];
  const unexpected = entries.filter((e) => !allowed.some((re) => re.test(e.path)));
  if (unexpected.length) problems.push(`files the package should not hold:\n${unexpected.map((e) => `    ${e.path}`).join('\n')}`);
  const paths = new Set(entries.map((e) => e.path));
  const schemaFiles = readdirSync(path.join(root, 'schema')).filter((f) => f.endsWith('.graphql'));
  const required = [
    'package.json',
    'README.md',
    pkg.bin?.['veeam-graph'],
    'dist/graphiql/yoga-graphiql.umd.js',
    'dist/graphiql/LICENSE',
    ...schemaFiles.map((f) => `schema/${f}`),
  ];
  const missing = required.filter((p) => !p || !paths.has(p));
  if (missing.length) problems.push(`files missing from the package: ${missing.join(', ')}`);
  if (problems.length) throw new CheckError(`tarball contents:\n  ${problems.join('\n  ')}`);
  const count = (re) => entries.filter((e) => re.test(e.path)).length;
  return `dist/src: ${count(/^dist\/src\//)} .js, dist/graphiql: ${count(/^dist\/graphiql\//)} files, schema: ${count(/^schema\//)} .graphql, ${['package.json', 'README.md'].join(', ')}${count(/^LICEN/i) ? ', LICENSE' : ' (no LICENSE file in the repo)'}`;
}

/**
 * npm's warnings of the install, one line each: EBADENGINE (package and its engines), ERESOLVE
 * (the peer it could not satisfy), install scripts. Reported, not failed on: the user's install
 * resolves without package.json#overrides, so it is not the tree `npm ci` (and check-install.mjs)
 * sees, and the tests passing here on it are what counts.
 */
function installWarnings(output) {
  const notes = [];
  const text = output.replace(/^npm warn ?/gm, '');
  for (const m of text.matchAll(/EBADENGINE\s+package: '([^']+)',\s*EBADENGINE\s+required: \{ node: '([^']+)' \}/g))
    notes.push(`EBADENGINE ${m[1]} requires node ${m[2]}`);
  for (const m of text.matchAll(/Could not resolve dependency:\s*\n\s*peer (.+?) from (\S+)/g))
    notes.push(`ERESOLVE peer ${m[1]} of ${m[2]} not satisfied (npm kept the other version)`);
  for (const m of text.matchAll(/^install-scripts\s+(\S+@\S+) \(([^)]*)\)/gm)) notes.push(`install script not covered by allowScripts: ${m[1]} (${m[2]})`);
  const other = text.split('\n').filter((l) => /^(deprecated|[A-Z]{4,})\b/.test(l) && !/^(EBADENGINE|ERESOLVE)\b/.test(l));
  return [...notes, ...other];
}

async function postJson(url, body) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT.request),
    });
  } catch (err) {
    throw new CheckError(`POST ${url}: ${err.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new CheckError(`POST ${url}: HTTP ${res.status}, expected 200: ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckError(`POST ${url}: not JSON: ${text.slice(0, 500)}`);
  }
}

/** `{ sources { name } }` at `endpoint`: every expected source, no errors. Returns the names. */
async function querySources(endpoint) {
  const body = await postJson(endpoint, { query: '{ sources { name } }' });
  if (body.errors?.length) throw new CheckError(`{ sources { name } } at ${endpoint}: errors ${JSON.stringify(body.errors).slice(0, 500)}`);
  const names = (body.data?.sources ?? []).map((s) => s.name);
  if (names.length !== EXPECTED_SOURCES)
    throw new CheckError(`{ sources { name } } at ${endpoint}: ${names.length} sources (${names.join(', ')}), expected ${EXPECTED_SOURCES}`);
  return names;
}

/** The GraphiQL page and its bundle, which the gateway serves from the installed @graphql-yoga/graphiql. */
async function checkGraphiql(base) {
  const sizes = [];
  for (const [route, minBytes] of [
    ['/graphiql', 500],
    ['/graphiql/assets/yoga-graphiql.umd.js', 100_000],
    ['/graphiql/assets/graphiql.css', 1_000],
  ]) {
    let res;
    try {
      res = await fetch(`${base}${route}`, { signal: AbortSignal.timeout(TIMEOUT.request) });
    } catch (err) {
      throw new CheckError(`GET ${base}${route}: ${err.message}`);
    }
    const bytes = (await res.arrayBuffer()).byteLength;
    if (res.status !== 200 || bytes < minBytes)
      throw new CheckError(`GET ${base}${route}: HTTP ${res.status}, ${bytes} bytes; expected 200 with at least ${minBytes} bytes`);
    sizes.push(`${route} ${kB(bytes)}`);
  }
  return sizes.join(', ');
}

/** The temporary directory of this run (pack/ and app/), removed at the end unless --keep. */
let tmp;
let keep = false;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  keep = args.keep;
  const t0 = performance.now();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'veeam-graph-pack-'));
  const times = {};
  try {
    // 1. pack
    let tarball;
    if (args.tarball) {
      tarball = path.resolve(args.tarball);
      if (!existsSync(tarball)) throw new CheckError(`--tarball ${args.tarball}: no such file`);
      log(`1/5 checking ${tarball} (no pack)`);
    } else {
      log(`1/5 npm pack (prepack: clean, codegen, build) into ${tmp}/pack`);
      const packDir = path.join(tmp, 'pack');
      mkdirSync(packDir);
      const packed = await run('npm pack', 'npm', ['pack', '--pack-destination', packDir], { cwd: root, timeoutMs: TIMEOUT.pack });
      times.pack = packed.ms;
      const files = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
      if (files.length !== 1) throw new CheckError(`npm pack: expected one .tgz in ${packDir}, found ${files.length}\n${outputOf(packed)}`);
      tarball = path.join(packDir, files[0]);
    }
    const expectedName = `${pkg.name}-${pkg.version}.tgz`;
    if (path.basename(tarball) !== expectedName && !args.tarball) throw new CheckError(`npm pack: wrote ${path.basename(tarball)}, expected ${expectedName}`);
    const entries = listTarball(tarball);
    const unpacked = entries.reduce((sum, e) => sum + e.size, 0);
    const { size } = statSync(tarball);
    log(`${path.basename(tarball)}: ${kB(size)}, ${entries.length} files, ${kB(unpacked)} unpacked${times.pack ? `, packed in ${seconds(times.pack)}` : ''}`);
    log(`contents: ${checkContents(entries)}`);

    // 2. install into an empty directory
    const app = path.join(tmp, 'app');
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'veeam-graph-pack-check', version: '1.0.0', private: true }, null, 2)}\n`);
    log(`2/5 npm install ${path.basename(tarball)} into an empty directory (${app}), dependencies from the registry`);
    const installed = await run('npm install', 'npm', ['install', tarball, '--no-audit', '--no-fund'], { cwd: app, timeoutMs: TIMEOUT.install });
    times.install = installed.ms;
    writeFileSync(path.join(tmp, 'npm-install.log'), `${installed.stdout}${installed.stderr}`);
    const lock = JSON.parse(readFileSync(path.join(app, 'node_modules', '.package-lock.json'), 'utf8'));
    const packages = Object.keys(lock.packages ?? {}).filter((k) => k.startsWith('node_modules/'));
    log(`installed in ${seconds(installed.ms)}: ${packages.length} packages`);
    for (const note of installWarnings(`${installed.stdout}\n${installed.stderr}`)) log(`  npm warned: ${note}`);
    // GraphiQL is served from the package's own copy (dist/graphiql), not from @graphql-yoga/graphiql's tree.
    for (const forbidden of ['tsx', 'ts-node', '@graphql-yoga/graphiql']) {
      if (packages.includes(`node_modules/${forbidden}`))
        throw new CheckError(`npm install: ${forbidden} got installed; the package must run without it (is it back in dependencies?)`);
    }
    const bin = path.join(app, 'node_modules', '.bin', 'veeam-graph');
    if (!existsSync(bin)) throw new CheckError(`npm install: no ${bin} (package.json#bin)`);

    // 3. --version
    // `--no`: never fetch a veeam-graph from the registry; `--`: without it, npx takes `--version` after `--no` as its own.
    log('3/5 npx --no -- veeam-graph --version');
    const version = await run('npx veeam-graph --version', 'npx', ['--no', '--', 'veeam-graph', '--version'], { cwd: app, timeoutMs: TIMEOUT.version });
    if (version.stdout.trim() !== pkg.version)
      throw new CheckError(`npx veeam-graph --version printed ${JSON.stringify(version.stdout.trim())}, expected ${pkg.version} (package.json)`);
    log(`  ${version.stdout.trim()} (package.json: ${pkg.version})`);

    // 4. demo
    const tRuns = performance.now();
    log('4/5 veeam-graph demo --port 0');
    const demo = start('veeam-graph demo', bin, ['demo', '--port', '0', '--log-format', 'json'], { cwd: app });
    const endpoint = await waitFor(
      demo,
      'GraphQL URL (stdout "GraphQL   URL", or "listening on URL" on stderr)',
      (p) => p.stdout.match(/^\s*GraphQL\s+(https?:\/\/\S+)/m)?.[1] ?? p.stderr.match(/listening on (https?:\/\/\S+)/)?.[1]?.concat('/graphql'),
      TIMEOUT.start,
    );
    log(`  GraphQL ${endpoint}`);
    log(`  sources: ${(await querySources(endpoint)).join(', ')}`);
    log(`  GraphiQL: ${await checkGraphiql(new URL(endpoint).origin)}`);
    await stopGracefully(demo);
    log('  SIGTERM: exit code 0');

    // 5. sim --write-config, serve --config
    log('5/5 veeam-graph sim --write-config veeam-graph.yaml, veeam-graph serve --config veeam-graph.yaml --port 0');
    const sim = start('veeam-graph sim', bin, ['sim', '--write-config', 'veeam-graph.yaml'], { cwd: app });
    await waitFor(sim, '"wrote gateway config" on stderr', (p) => /wrote gateway config/.test(p.stderr), TIMEOUT.start);
    const serve = start('veeam-graph serve', bin, ['serve', '--config', 'veeam-graph.yaml', '--port', '0', '--log-format', 'json'], { cwd: app });
    const url = await waitFor(
      serve,
      '"veeam-graph listening on URL" on stderr',
      (p) => p.stderr.match(/veeam-graph listening on (https?:\/\/\S+)/)?.[1],
      TIMEOUT.start,
    );
    log(`  listening on ${url}`);
    log(`  sources: ${(await querySources(`${url}/graphql`)).join(', ')}`);
    await stopGracefully(serve);
    await stopGracefully(sim);
    log('  SIGTERM: serve and sim exit code 0');
    times.runs = performance.now() - tRuns;

    const parts = [times.pack && `pack ${seconds(times.pack)}`, `install ${seconds(times.install)}`, `runs ${seconds(times.runs)}`].filter(Boolean);
    log(`ok in ${seconds(performance.now() - t0)} (${parts.join(', ')})`);
  } finally {
    for (const proc of started) killGroup(proc);
    await Promise.all([...started].map((p) => p.exited));
    if (args.keep) log(`kept ${tmp} (pack/, app/ with the install and the sim's config, npm-install.log)`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const proc of started) killGroup(proc);
    if (tmp && !keep) rmSync(tmp, { recursive: true, force: true });
    console.error(`pack-check: ${signal}: stopped`);
    process.exit(1);
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`pack-check: FAILED: ${err instanceof CheckError ? err.message : (err?.stack ?? err)}`);
    process.exit(1);
  },
);
