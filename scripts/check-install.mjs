#!/usr/bin/env node
// Install hygiene check, run by .ci/run right after `npm ci`.
//
//   node scripts/check-install.mjs [--log FILE] [--node 20,22,24] [--engines RANGE]
//
// 1. With --log FILE (the captured output of `npm ci`): fails on any EBADENGINE (a package whose
//    engines exclude the running Node), ERESOLVE (a peer dependency npm had to override) or an
//    install-scripts notice (a dependency whose install script package.json#allowScripts neither
//    approves nor denies), printing the offending lines.
// 2. Always: the engines audit of package-lock.json. The Node versions the project promises are
//    package.json#engines.node restricted to the majors of --node (default 20, 22 and 24); every
//    lock entry's engines.node must accept each of them. npm only warns about the Node it runs on,
//    so this is what catches, on a Node 20 CI, a dependency that dropped Node 22 or 24 (or that
//    needs a later 20.x than the one CI has). --engines RANGE audits against RANGE instead of
//    package.json's (`--engines '>=20'` lists every entry that excludes any 20.x, 22.x or 24.x).
//    Exits 1 on any finding.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// semver is in the installed tree (hoisted, a dependency of many of ours); only Range#test and
// SemVer are used, which every semver major has.
const semver = createRequire(path.join(root, 'package.json'))('semver');

function parseArgs(argv) {
  const args = { log: undefined, majors: [20, 22, 24], engines: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--log') args.log = argv[++i];
    else if (a === '--node') args.majors = (argv[++i] ?? '').split(',').map((s) => Number(s.trim()));
    else if (a === '--engines') args.engines = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/check-install.mjs [--log NPM_CI_OUTPUT] [--node 20,22,24] [--engines RANGE]');
      process.exit(0);
    } else {
      console.error(`check-install: unknown argument ${a}`);
      process.exit(2);
    }
  }
  for (const flag of ['--log', '--engines']) {
    if (argv.includes(flag) && args[flag.slice(2)] === undefined) {
      console.error(`check-install: ${flag} needs a value`);
      process.exit(2);
    }
  }
  if (args.majors.some((m) => !Number.isInteger(m) || m <= 0)) {
    console.error('check-install: --node takes Node major versions, e.g. 20,22,24');
    process.exit(2);
  }
  return args;
}

/** The npm ci output check: every line naming a warning that must not come back. */
function checkLog(file) {
  const patterns = [
    { name: 'EBADENGINE', re: /\bEBADENGINE\b/ },
    { name: 'ERESOLVE', re: /\bERESOLVE\b/ },
    { name: 'install-scripts (not in package.json#allowScripts)', re: /not yet covered by allowScripts/ },
  ];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  let failed = false;
  for (const { name, re } of patterns) {
    const hits = lines.filter((l) => re.test(l));
    if (hits.length === 0) continue;
    failed = true;
    console.error(`check-install: npm ci printed ${hits.length} ${name} line(s):`);
    for (const h of hits.slice(0, 40)) console.error(`  ${h}`);
    if (hits.length > 40) console.error(`  ... ${hits.length - 40} more in ${file}`);
  }
  if (!failed) console.log(`check-install: npm ci output (${file}): no EBADENGINE, no ERESOLVE, no unreviewed install scripts`);
  return !failed;
}

/**
 * Candidate versions of one Node major: every M.m.p up to m < 60, p < 40. Node releases stay far
 * below these (20.20, 22.2x, 24.1x), so a range is tested against every version the major has had.
 */
function versionsOf(major) {
  const out = [];
  for (let m = 0; m < 60; m++) for (let p = 0; p < 40; p++) out.push(new semver.SemVer(`${major}.${m}.${p}`));
  return out;
}

/** What a range leaves out of the promised versions: "needs 20.19.0 or later", or the gaps. */
function describe(promised, range) {
  const firstOk = promised.findIndex((v) => range.test(v));
  if (promised.slice(firstOk).every((v) => range.test(v))) return `needs ${promised[firstOk].version} or later`;
  const missing = promised.filter((v) => !range.test(v));
  return `excludes ${missing.length} of the sampled versions, ${missing[0].version} to ${missing[missing.length - 1].version}`;
}

/** The engines audit of package-lock.json. */
function auditLock(majors, enginesOverride) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const claim = enginesOverride ?? pkg.engines?.node ?? '*';
  const source = enginesOverride === undefined ? 'package.json engines.node' : '--engines';
  const promise = new semver.Range(claim);
  const ranges = new Map();
  const rangeOf = (spec) => {
    if (!ranges.has(spec)) ranges.set(spec, new semver.Range(spec));
    return ranges.get(spec);
  };
  let ok = true;
  let entries = 0;
  const notes = [];
  for (const major of majors) {
    const promised = versionsOf(major).filter((v) => promise.test(v));
    if (promised.length === 0) {
      console.error(`check-install: ${source} "${claim}" excludes Node ${major}`);
      ok = false;
      continue;
    }
    const excluded = [];
    for (const [key, entry] of Object.entries(lock.packages ?? {})) {
      if (key === '') continue;
      const spec = entry.engines?.node;
      if (typeof spec !== 'string') continue;
      if (major === majors[0]) entries++;
      let range;
      try {
        range = rangeOf(spec);
      } catch {
        if (major === majors[0]) notes.push(`${key}: engines.node "${spec}" is no semver range (npm ignores it)`);
        continue;
      }
      const accepted = promised.filter((v) => range.test(v));
      if (accepted.length === promised.length) continue;
      const name = `${key.replace(/^.*node_modules\//, '')}@${entry.version} (${key}${entry.dev ? ', dev' : ''}) engines.node "${spec}"`;
      if (accepted.length === 0) {
        excluded.push(`${name}: no Node ${major} release`);
        continue;
      }
      excluded.push(`${name}: ${describe(promised, range)}`);
    }
    if (excluded.length > 0) {
      ok = false;
      console.error(
        `check-install: Node ${major} (as ${source} "${claim}" promises it) is not accepted by ${excluded.length} lock entr${excluded.length === 1 ? 'y' : 'ies'}:`,
      );
      for (const e of excluded) console.error(`  ${e}`);
    } else {
      console.log(`check-install: Node ${major}: every lock entry accepts ${promised[0].version} and later (${source} "${claim}")`);
    }
  }
  for (const n of notes) console.log(`check-install: note: ${n}`);
  console.log(`check-install: engines audit of ${entries} lock entries with engines.node, Node ${majors.join(', ')}: ${ok ? 'ok' : 'FAILED'}`);
  return ok;
}

const args = parseArgs(process.argv.slice(2));
let ok = true;
if (args.log !== undefined) ok = checkLog(args.log) && ok;
ok = auditLock(args.majors, args.engines) && ok;
process.exit(ok ? 0 : 1);
