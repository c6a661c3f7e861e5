#!/usr/bin/env python3
"""Build HyperPlace's upstream patch series from the tree (`make series`).

scripts/make-series.sh prepares the cached base repositories and runs this
with the base tags; see there for the whole picture, and
patches/upstream/README for the manifest format.

For each tree (linux, qemu) it
  1. parses the manifest (patches/upstream/<tree>.series) and checks that
     every patch of the quilt series and every overlay file is in the
     series exactly once or listed as not submitted;
  2. builds one commit per manifest section on top of the base tag with git
     plumbing (a private index; the base's worktree is not touched) and
     points refs/heads/series at the last one;
  3. checks that the last commit's tree equals the build tree (build/linux,
     build/qemu) for every file the series or the build tree changes,
     symlinks resolved; MAINTAINERS may only gain lines;
  4. runs git format-patch, checkpatch.pl of the base tree on every patch
     and get_maintainer.pl for the recipients, and fills the cover letter.

--lint stops after 1 (no git needed), --no-format after 3.  --tap prints
TAP (one result per check, per patch where it makes sense) and goes on after
a failure.  --config FILE (JSON) overrides the per-tree settings; the
host-side tests use it to run all this on a toy tree.
"""

import argparse
import concurrent.futures
import filecmp
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

HP_ROOT = os.environ.get('HP_ROOT') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HP_BUILD = os.environ.get('HP_BUILD') or os.path.join(HP_ROOT, 'build')
UPSTREAM = 'patches/upstream'


class SeriesError(Exception):
    pass


def log(msg):
    print('[series] %s' % msg, file=sys.stderr, flush=True)


def defaults():
    linux_dirs = os.environ.get('HP_KERNEL_OVERLAY_DIRS',
                                'mm arch drivers include kernel virt Documentation tools').split()
    qdir = os.path.join(HP_ROOT, 'qemu')
    qemu_dirs = sorted(d for d in os.listdir(qdir)
                       if d != 'patches' and os.path.isdir(os.path.join(qdir, d))) \
        if os.path.isdir(qdir) else []
    series = os.path.join(HP_BUILD, 'series')
    return {
        'linux': {
            'root': HP_ROOT,
            'manifest': os.path.join(HP_ROOT, UPSTREAM, 'linux.series'),
            'upstream_dir': os.path.join(HP_ROOT, UPSTREAM),
            'quilt_dir': os.path.join(HP_ROOT, 'patches/linux'),
            'overlay_base': HP_ROOT,
            'overlay_dirs': linux_dirs,
            'build_tree': os.path.join(HP_BUILD, 'linux'),
            'base_git': os.path.join(series, 'base-linux'),
            'out': os.path.join(series, 'linux'),
            'checkpatch': ['perl', 'scripts/checkpatch.pl', '--strict', '--show-types'],
            'get_maintainer': ['perl', 'scripts/get_maintainer.pl', '--no-git',
                               '--no-git-fallback', '--no-rolestats', '--no-fixes'],
            'subject_prefix': 'PATCH',
            'allow': os.path.join(HP_ROOT, UPSTREAM, 'checkpatch-allow'),
        },
        'qemu': {
            'root': HP_ROOT,
            'manifest': os.path.join(HP_ROOT, UPSTREAM, 'qemu.series'),
            'upstream_dir': os.path.join(HP_ROOT, UPSTREAM),
            'quilt_dir': os.path.join(HP_ROOT, 'qemu/patches'),
            'overlay_base': qdir,
            'overlay_dirs': qemu_dirs,
            'build_tree': os.path.join(HP_BUILD, 'qemu'),
            'base_git': os.path.join(series, 'base-qemu'),
            'out': os.path.join(series, 'qemu'),
            'checkpatch': ['perl', 'scripts/checkpatch.pl'],
            'get_maintainer': ['perl', 'scripts/get_maintainer.pl', '--no-git',
                               '--no-git-fallback', '--no-rolestats'],
            'subject_prefix': 'PATCH',
            'allow': os.path.join(HP_ROOT, UPSTREAM, 'checkpatch-allow'),
        },
    }


# --- the manifest ------------------------------------------------------------

class Section:
    def __init__(self, subject, line):
        self.subject = subject
        self.line = line
        self.body = None          # ('file', path) or ('quilt', None)
        self.quilt = []           # (glob, [paths], optional, line)
        self.add = []             # (glob, optional, line)
        self.stage = []           # (path, file, line)
        self.maint = []           # (entry, [patterns] or 'auto', line)
        self.maint_new = []       # (entry, [lines], line)
        # resolved
        self.quilt_parts = []     # (quilt name, [files] or None)
        self.added = []           # overlay paths


class Manifest:
    def __init__(self, path):
        self.path = path
        self.tree = None
        self.cover = None
        self.not_submitted = []   # (glob, reason, line)
        self.sections = []


def parse_manifest(path):
    """Parse a manifest; raises SeriesError listing every problem found."""
    m = Manifest(path)
    errs = []
    name = os.path.relpath(path, HP_ROOT) if path.startswith(HP_ROOT + '/') else path
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
    except OSError as e:
        raise SeriesError('%s: %s' % (name, e.strerror))
    cur = None
    last = None   # the directive that takes continuation lines
    for n, raw in enumerate(lines, 1):
        where = '%s:%d' % (name, n)
        if not raw.strip() or raw.lstrip().startswith('#'):
            continue
        if raw[0] in ' \t':
            if last is None:
                errs.append('%s: continuation line with nothing to continue' % where)
            else:
                last.append(raw.strip())
            continue
        last = None
        line = raw.rstrip()
        if line.startswith('['):
            if not line.endswith(']') or len(line) < 3:
                errs.append('%s: a section starts with [subject]' % where)
                continue
            cur = Section(line[1:-1].strip(), n)
            m.sections.append(cur)
            continue
        word, _, rest = line.partition(' ')
        rest = rest.strip()
        if word in ('tree', 'cover', 'not-submitted'):
            if cur is not None:
                errs.append('%s: "%s" belongs before the first [subject]' % (where, word))
                continue
            if word == 'tree':
                if rest not in ('linux', 'qemu'):
                    errs.append('%s: tree is linux or qemu' % where)
                m.tree = rest
            elif word == 'cover':
                m.cover = rest
            else:
                glob, sep, reason = rest.partition(': ')
                if not sep or not glob or not reason.strip():
                    errs.append('%s: not-submitted GLOB: REASON' % where)
                    continue
                m.not_submitted.append((glob.strip(), reason.strip(), n))
            continue
        if cur is None:
            errs.append('%s: "%s" outside a [subject] section' % (where, word))
            continue
        args = rest.split()
        if word == 'body':
            if cur.body is not None:
                errs.append('%s: a second body' % where)
            elif len(args) != 1:
                errs.append('%s: body FILE | body quilt' % where)
            else:
                cur.body = ('quilt', None) if args[0] == 'quilt' else ('file', args[0])
        elif word in ('quilt', 'quilt?'):
            if not args:
                errs.append('%s: quilt PATCH-GLOB [FILE...]' % where)
            else:
                cur.quilt.append((args[0], args[1:], word == 'quilt?', n))
        elif word in ('add', 'add?'):
            if not args:
                errs.append('%s: add GLOB...' % where)
            for g in args:
                cur.add.append((g, word == 'add?', n))
        elif word == 'stage':
            if len(args) != 2:
                errs.append('%s: stage PATH FILE' % where)
            else:
                cur.stage.append((args[0], args[1], n))
        elif word == 'maintainers':
            entry, sep, pats = rest.partition(':')
            pats = pats.split()
            if not sep or not entry.strip() or not pats:
                errs.append('%s: maintainers ENTRY: PATTERN... | auto' % where)
            else:
                cur.maint.append((entry.strip(), 'auto' if pats == ['auto'] else pats, n))
        elif word == 'maintainers-new':
            if not rest:
                errs.append('%s: maintainers-new ENTRY' % where)
            else:
                last = []
                cur.maint_new.append((rest, last, n))
        else:
            errs.append('%s: unknown directive "%s"' % (where, word))
    if m.tree is None:
        errs.append('%s: no "tree linux|qemu" line' % name)
    if not m.sections:
        errs.append('%s: no [subject] section' % name)
    for s in m.sections:
        where = '%s:%d' % (name, s.line)
        if s.body is None:
            errs.append('%s: [%s] has no body' % (where, s.subject))
        if not (s.quilt or s.add or s.stage):
            errs.append('%s: [%s] changes nothing' % (where, s.subject))
        for e, lines_, n in s.maint_new:
            for l in lines_:
                if not re.match(r'^[A-Z]:\s*\S', l):
                    errs.append('%s:%d: maintainers-new lines are "X: value", not "%s"' % (name, n, l))
    if errs:
        raise SeriesError('\n'.join(errs))
    return m


# --- quilt patches -------------------------------------------------------------

def read_series_file(qdir):
    p = os.path.join(qdir, 'series')
    if not os.path.exists(p):
        return []
    out = []
    with open(p) as f:
        for l in f:
            l = l.split('#', 1)[0].strip()
            if l:
                out.append(l)
    return out


def parse_quilt(path):
    """Return (subject, body, {file: section text}) of a quilt-style patch."""
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        lines = f.read().split('\n')
    subject, body, i = None, [], 0
    while i < len(lines) and lines[i] != '---' and not lines[i].startswith('--- '):
        if lines[i].startswith('Subject:') and subject is None:
            subject = re.sub(r'^\[PATCH[^]]*\]\s*', '', lines[i][8:].strip())
        i += 1
    header = lines[:i]
    # the body: after the first blank line of the header
    if '' in header:
        body = header[header.index('') + 1:]
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    sections, order, cur = {}, [], None
    for j in range(i, len(lines)):
        l = lines[j]
        if l.startswith('--- ') and j + 1 < len(lines) and lines[j + 1].startswith('+++ '):
            tgt = lines[j + 1][4:].split('\t')[0].strip()
            src = l[4:].split('\t')[0].strip()
            name = tgt if tgt != '/dev/null' else src
            name = name.split('/', 1)[1] if '/' in name else name
            cur = name
            sections[cur] = []
            order.append(cur)
        if cur is not None:
            sections[cur].append(l)
    return subject, '\n'.join(body), {k: '\n'.join(v).rstrip('\n') + '\n' for k, v in sections.items()}, order


# --- overlay files -------------------------------------------------------------

def overlay_files(cfg):
    base = cfg['overlay_base']
    out = []
    for d in cfg['overlay_dirs']:
        top = os.path.join(base, d)
        if not os.path.isdir(top):
            continue
        for dp, dns, fns in os.walk(top):
            dns.sort()
            for f in fns:
                p = os.path.join(dp, f)
                if os.path.isfile(p):
                    out.append(os.path.relpath(p, base))
    return sorted(out)


# --- resolving a manifest against the tree -------------------------------------------------

class Plan:
    pass


def resolve(cfg, m):
    """Resolve globs, check coverage.  Returns a Plan; raises SeriesError."""
    errs = []
    name = os.path.relpath(m.path, HP_ROOT) if m.path.startswith(HP_ROOT + '/') else m.path
    qdir = cfg['quilt_dir']
    qrel = os.path.relpath(qdir, cfg['root'])
    series = read_series_file(qdir)
    quilt = {}
    for q in series:
        p = os.path.join(qdir, q)
        if not os.path.exists(p):
            errs.append('%s/series names %s, which does not exist' % (qrel, q))
            continue
        quilt[q] = parse_quilt(p)
    ovl = overlay_files(cfg)
    ovl_set = set(ovl)
    used = {}        # (quilt, file) -> [section subjects]
    added = {}       # overlay path -> [subjects]
    staged = {}
    for s in m.sections:
        for glob, files, optional, n in s.quilt:
            hits = [q for q in series if fnmatch.fnmatchcase(q, glob)]
            if not hits and not optional:
                errs.append('%s:%d: no patch in %s/series matches %s' % (name, n, qrel, glob))
            for q in hits:
                if q not in quilt:
                    continue
                qfiles = quilt[q][3]
                for f in files:
                    if f not in quilt[q][2]:
                        errs.append('%s:%d: %s does not change %s' % (name, n, q, f))
                sel = [f for f in qfiles if f in files] if files else list(qfiles)
                for f in sel:
                    used.setdefault((q, f), []).append(s.subject)
                s.quilt_parts.append((q, sel))
        for glob, optional, n in s.add:
            hits = [f for f in ovl if fnmatch.fnmatchcase(f, glob)]
            if not hits and not optional:
                errs.append('%s:%d: no overlay file matches %s' % (name, n, glob))
            for f in hits:
                if f not in s.added:
                    s.added.append(f)
                    added.setdefault(f, []).append(s.subject)
        for path, sfile, n in s.stage:
            full = os.path.join(cfg['upstream_dir'], sfile)
            if not os.path.isfile(full):
                errs.append('%s:%d: stage file %s does not exist' % (name, n, sfile))
            staged.setdefault(path, []).append(s.subject)
        if s.subject == '@quilt':
            if s.quilt_parts:
                s.subject = quilt[s.quilt_parts[0][0]][0] or s.subject
            else:
                errs.append('%s:%d: [@quilt] takes the subject of a quilt patch, and there is none' % (name, s.line))
        if s.body and s.body[0] == 'file':
            if not os.path.isfile(os.path.join(cfg['upstream_dir'], s.body[1])):
                errs.append('%s:%d: [%s]: body file %s does not exist' % (name, s.line, s.subject, s.body[1]))
        elif s.body and s.body[0] == 'quilt' and not s.quilt_parts:
            errs.append('%s:%d: [%s]: "body quilt" needs a quilt line' % (name, s.line, s.subject))
    for q in series:
        if q not in quilt:
            continue
        for f in quilt[q][3]:
            who = used.get((q, f), [])
            if not who:
                errs.append('%s/%s: its change to %s is in no patch of the series' % (qrel, q, f))
            elif len(who) > 1:
                errs.append('%s/%s: its change to %s is in more than one patch: %s' % (qrel, q, f, '; '.join(who)))
    for f, who in added.items():
        if len(who) > 1:
            errs.append('%s: added by more than one patch: %s' % (f, '; '.join(who)))
    skipped = {}
    for glob, reason, n in m.not_submitted:
        hits = [f for f in ovl if fnmatch.fnmatchcase(f, glob)]
        if not hits:
            errs.append('%s:%d: not-submitted %s matches no overlay file' % (name, n, glob))
        for f in hits:
            skipped.setdefault(f, reason)
    orel = os.path.relpath(cfg['overlay_base'], cfg['root'])
    orel = '' if orel == '.' else orel + '/'
    for f in ovl:
        inside = f in added or f in staged
        if inside and f in skipped:
            errs.append('%s%s: in the series and listed as not submitted' % (orel, f))
        elif not inside and f not in skipped:
            errs.append('%s%s: neither in the series nor listed as not submitted (%s)' % (orel, f, name))
    for f in staged:
        if f not in ovl_set:
            errs.append('%s: staged, but there is no such overlay file for its final version' % f)
    if errs:
        raise SeriesError('\n'.join(errs))
    p = Plan()
    p.series, p.quilt, p.overlay, p.skipped, p.name = series, quilt, ovl, skipped, name
    return p


# --- MAINTAINERS ---------------------------------------------------------------

TAG_ORDER = 'MRLSWQBCPTFXNK'


def maint_find(lines, entry):
    # An entry follows a blank line, or the underline of a section heading
    # (QEMU's "Guest CPU cores (TCG)" / "-----" before "Overall TCG CPUs").
    for i, l in enumerate(lines):
        after = i == 0 or lines[i - 1] == '' or set(lines[i - 1]) == {'-'}
        if l == entry and after and i + 1 < len(lines) \
                and re.match(r'^[A-Z]:', lines[i + 1]):
            j = i + 1
            while j < len(lines) and lines[j] != '':
                j += 1
            return i, j
    return None


def maint_new_entry(lines, entry, body):
    """Insert a new entry where the titles around it sort before and after
    it.  MAINTAINERS is sorted by title but not perfectly, so take the gap
    that the most titles agree with (titles before it smaller, after it
    larger)."""
    if maint_find(lines, entry):
        raise SeriesError('MAINTAINERS already has an entry %s' % entry)
    start = 0
    for i, l in enumerate(lines):
        if l.startswith('Maintainers List'):
            start = i
            break
    titles = [i for i in range(max(start, 1), len(lines) - 1)
              if lines[i - 1] == '' and re.match(r'^[0-9A-Z]', lines[i])
              and re.match(r'^[A-Z]:\t', lines[i + 1])]
    if not titles:
        raise SeriesError('MAINTAINERS: found no entries')
    key = entry.upper()
    larger_after = sum(1 for i in titles if lines[i].upper() > key)
    best, best_at, smaller_before = -1, None, 0
    for k, i in enumerate(titles):
        score = smaller_before + larger_after
        if score > best:
            best, best_at = score, i
        if lines[i].upper() < key:
            smaller_before += 1
        else:
            larger_after -= 1
    lines[best_at:best_at] = [entry] + body + ['']
def maint_add_f(lines, entry, pattern):
    loc = maint_find(lines, entry)
    if not loc:
        raise SeriesError('MAINTAINERS has no entry %s' % entry)
    i, j = loc
    sep = '\t' if lines[i + 1][2:3] == '\t' else ' '   # QEMU's file uses "F: "
    new = 'F:' + sep + pattern
    if any(l[:2] == 'F:' and l[2:].strip() == pattern for l in lines[i + 1:j]):
        raise SeriesError('MAINTAINERS: %s already has F: %s' % (entry, pattern))
    fl = [k for k in range(i + 1, j) if lines[k].startswith('F:')]
    if fl:
        pos = fl[-1] + 1
        for k in fl:
            if lines[k][2:].strip().encode() > pattern.encode():
                pos = k
                break
    else:
        pos = j
        for k in range(i + 1, j):
            if TAG_ORDER.index(lines[k][0]) > TAG_ORDER.index('F'):
                pos = k
                break
    lines.insert(pos, new)


def maint_matches(pattern, path):
    """get_maintainer.pl's F: semantics, near enough."""
    if pattern.endswith('/'):
        return path.startswith(pattern)
    rx = '^' + re.escape(pattern).replace(r'\*', '.*').replace(r'\?', '.')
    if re.match(rx + '$', path):
        return True
    return '*' not in pattern and path.startswith(pattern.rstrip('/') + '/')


# --- git -----------------------------------------------------------------------

class Git:
    def __init__(self, gitdir, index=None, env=None):
        if os.path.isdir(os.path.join(gitdir, '.git')):
            gitdir = os.path.join(gitdir, '.git')
        self.gitdir = gitdir
        self.env = dict(os.environ)
        self.env.pop('GIT_DIR', None)
        self.env.pop('GIT_WORK_TREE', None)
        if index:
            self.env['GIT_INDEX_FILE'] = index
        if env:
            self.env.update(env)

    def __call__(self, *args, input=None, check=True, binary=False):
        cmd = ['git', '--git-dir', self.gitdir, '-c', 'core.autocrlf=false',
               '-c', 'core.hooksPath=/dev/null', '-c', 'gc.auto=0'] + list(args)
        r = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env)
        if check and r.returncode:
            raise SeriesError('git %s failed: %s' % (' '.join(args[:3]),
                                                     r.stderr.decode(errors='replace').strip()))
        return r.stdout if binary else r.stdout.decode(errors='surrogateescape')


def hash_files(git, paths, write):
    if not paths:
        return []
    args = ['hash-object', '--no-filters', '--stdin-paths'] + (['-w'] if write else [])
    out = git(*args, input='\n'.join(paths).encode() + b'\n').split()
    if len(out) != len(paths):
        raise SeriesError('git hash-object gave %d hashes for %d files' % (len(out), len(paths)))
    return out


def file_mode(path):
    return '100755' if os.access(path, os.X_OK) else '100644'


def make_message(subject, body, identity):
    body = body.strip('\n')
    body = re.sub(r'\n+(Signed-off-by: .*\n?)+$', '', body)
    return '%s\n\n%s\n\nSigned-off-by: %s\n' % (subject, body, identity)


def build_commits(cfg, m, plan, base_ref, identity, date):
    """One commit per section; returns [(sha, section)], the tip and MAINTAINERS' path."""
    out = cfg['out']
    os.makedirs(out, exist_ok=True)
    index = os.path.join(out, '.index')
    if os.path.exists(index):
        os.unlink(index)
    name, email = re.match(r'^(.*?)\s*<(.*)>$', identity).groups()
    env = {'GIT_AUTHOR_NAME': name, 'GIT_AUTHOR_EMAIL': email, 'GIT_AUTHOR_DATE': date,
           'GIT_COMMITTER_NAME': name, 'GIT_COMMITTER_EMAIL': email, 'GIT_COMMITTER_DATE': date}
    git = Git(cfg['base_git'], index, env)
    base = git('rev-parse', '--verify', base_ref + '^{commit}').strip()
    git('read-tree', base)
    parent = base
    commits = []
    upd = cfg['upstream_dir']
    for idx, s in enumerate(m.sections, 1):
        info = []   # lines for update-index --index-info
        # 1. hunks of quilt patches, applied with patch(1) as the build does
        for q, files in s.quilt_parts:
            if not files:
                continue
            text = ''.join(plan.quilt[q][2][f] for f in files)
            with tempfile.TemporaryDirectory() as tmp:
                modes = {}
                for f in files:
                    ls = git('ls-files', '-s', '--', f).split()
                    if ls:
                        modes[f] = ls[0]
                        dst = os.path.join(tmp, f)
                        os.makedirs(os.path.dirname(dst), exist_ok=True)
                        with open(dst, 'wb') as fh:
                            fh.write(git('cat-file', 'blob', ls[1], binary=True))
                r = subprocess.run(['patch', '-d', tmp, '-p1', '-N', '-s', '--batch',
                                    '--no-backup-if-mismatch'], input=text.encode(),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                if r.returncode:
                    raise SeriesError('patch %d [%s]: the hunks of %s do not apply at this point '
                                      'of the series:\n%s' % (idx, s.subject, q,
                                                              r.stdout.decode(errors='replace')))
                present = [f for f in files if os.path.exists(os.path.join(tmp, f))]
                shas = hash_files(git, [os.path.join(tmp, f) for f in present], True)
                for f, sha in zip(present, shas):
                    info.append('%s %s\t%s' % (modes.get(f, file_mode(os.path.join(tmp, f))), sha, f))
                for f in files:
                    if f not in present:
                        info.append('0 %s\t%s' % ('0' * 40, f))
        # 2. stages and whole overlay files
        before = set(git('ls-files', '-z', '--', *s.added).split('\0')) if s.added else set()
        new_files = [f for f in s.added if f not in before]
        srcs = [(p, os.path.join(upd, sf)) for p, sf, n in s.stage]
        srcs += [(f, os.path.realpath(os.path.join(cfg['overlay_base'], f))) for f in s.added]
        shas = hash_files(git, [src for _, src in srcs], True)
        for (p, src), sha in zip(srcs, shas):
            real = os.path.realpath(os.path.join(cfg['overlay_base'], p))
            info.append('%s %s\t%s' % (file_mode(real if os.path.exists(real) else src), sha, p))
        if info:
            git('update-index', '--add', '--remove', '--index-info', input=('\n'.join(info) + '\n').encode())
        # 3. MAINTAINERS
        if s.maint or s.maint_new:
            ls = git('ls-files', '-s', '--', 'MAINTAINERS').split()
            if not ls:
                raise SeriesError('the base has no MAINTAINERS')
            lines = git('cat-file', 'blob', ls[1]).split('\n')
            for entry, body, n in s.maint_new:
                maint_new_entry(lines, entry, ['%s:\t%s' % (l[0], l[2:].strip().replace('@signoff', identity))
                                               for l in body])
            pats_all = []
            for entry, pats, n in s.maint:
                if pats == 'auto':
                    pats = sorted(new_files)
                for p in pats:
                    maint_add_f(lines, entry, p)
                    pats_all.append(p)
            # Every new file must be covered by an entry the patch touches.
            for e in [e for e, b_, n in s.maint_new] + [e for e, p_, n in s.maint]:
                i, j = maint_find(lines, e)
                pats_all += [l[2:].strip() for l in lines[i + 1:j] if l.startswith('F:')]
            for f in new_files:
                if not any(maint_matches(p, f) for p in pats_all):
                    raise SeriesError('patch %d [%s] adds %s, but no F: line of the MAINTAINERS '
                                      'entries it changes covers it' % (idx, s.subject, f))
            sha = git('hash-object', '-w', '--no-filters', '--stdin',
                      input='\n'.join(lines).encode(errors='surrogateescape')).strip()
            git('update-index', '--cacheinfo', '%s,%s,MAINTAINERS' % (ls[0], sha))
        tree = git('write-tree').strip()
        if s.body[0] == 'quilt':
            body = plan.quilt[s.quilt_parts[0][0]][1]
        else:
            with open(os.path.join(upd, s.body[1]), encoding='utf-8') as fh:
                body = fh.read()
        msg = make_message(s.subject, body, identity)
        parent = git('commit-tree', tree, '-p', parent, input=msg.encode()).strip()
        commits.append((parent, s))
    git('update-ref', 'refs/heads/series', parent)
    os.unlink(index)
    return base, commits


# --- the series tree against the build tree ------------------------------------------

def compare_tree(cfg, m, plan, base, tip):
    """Errors (list of strings) where the series' last tree differs from the build tree."""
    errs = []
    bt = cfg['build_tree']
    git = Git(cfg['base_git'])
    # Is the build tree current?
    applied_f = os.path.join(bt, '.hyperplace-series', 'applied')
    if os.path.exists(applied_f):
        with open(applied_f) as f:
            applied = [l.strip() for l in f if l.strip()]
        stale = [q for i, q in enumerate(plan.series) if i < len(applied) and applied[i] == q and
                 not filecmp.cmp(os.path.join(cfg['quilt_dir'], q),
                                 os.path.join(bt, '.hyperplace-series', '%d.patch' % i), shallow=False)]
        if applied != plan.series or stale:
            errs.append('%s is not current (%s): bring it up to date with make linux-src / make qemu-src'
                        % (bt, 'changed since applied: ' + ' '.join(stale) if stale else
                           'it has %s applied, the series file names %s'
                           % (' '.join(applied) or 'nothing', ' '.join(plan.series) or 'nothing')))
            return errs
    changed = set(git('diff', '--name-only', '--no-renames', '-z', base, tip).split('\0')) - {''}
    paths = set(changed) | set(plan.overlay)
    for q in plan.series:
        paths |= set(plan.quilt[q][3])
    paths = sorted(paths)
    ls = {}
    for l in git('ls-tree', '-r', '-z', tip, '--', *paths).split('\0'):
        if l:
            meta, p = l.split('\t', 1)
            ls[p] = meta.split()[2]
    real = {}
    for p in paths:
        fp = os.path.join(bt, p)
        if os.path.lexists(fp):
            real[p] = os.path.realpath(fp)
    have = [p for p in paths if p in real and os.path.isfile(real[p])]
    hashes = dict(zip(have, hash_files(git, [real[p] for p in have], False)))
    for p in paths:
        s, b = ls.get(p), hashes.get(p)
        if p in plan.skipped:
            if s is not None:
                errs.append('%s: not submitted, but the series has it' % p)
            elif b is None:
                errs.append('%s: missing from the build tree %s' % (p, bt))
            continue
        if s == b:
            continue
        if p == 'MAINTAINERS' and s and b:
            # The series adds its entries; the build does not need them.
            with tempfile.NamedTemporaryFile() as t:
                t.write(git('cat-file', 'blob', s, binary=True))
                t.flush()
                d = subprocess.run(['diff', real[p], t.name], stdout=subprocess.PIPE).stdout.decode(errors='replace')
            gone = [l for l in d.split('\n') if l.startswith('< ')]
            if gone:
                errs.append('MAINTAINERS: the series removes or changes lines: %s' % gone[0][2:])
            continue
        if s is None:
            errs.append('%s: in the build tree, not in the series' % p)
        elif b is None:
            errs.append('%s: in the series, not in the build tree' % p)
        else:
            errs.append('%s: differs between the series and the build tree' % p)
    return errs


# --- format-patch, checkpatch, recipients, cover letter --------------------------------

def format_patches(cfg, base_ref):
    out = cfg['out']
    for f in os.listdir(out):
        if f.endswith('.patch'):
            os.unlink(os.path.join(out, f))
    git = Git(cfg['base_git'])
    # Pin what a user's git configuration could change in the output.
    git('-c', 'format.signOff=false', '-c', 'format.coverLetter=false', '-c', 'core.abbrev=12',
        '-c', 'diff.renames=false', '-c', 'format.useAutoBase=false', '-c', 'format.suffix=.patch',
        '-c', 'diff.noprefix=false', '-c', 'diff.mnemonicPrefix=false', '-c', 'format.numbered=auto',
        'format-patch', '--no-to', '--no-cc', '--no-add-header', '--cover-letter', '--thread',
        '--base=' + base_ref,
        '--subject-prefix=' + cfg['subject_prefix'], '-o', out, base_ref + '..refs/heads/series')
    files = sorted(f for f in os.listdir(out) if f.endswith('.patch'))
    return [os.path.join(out, f) for f in files if not f.startswith('0000-')], \
        os.path.join(out, files[0])


def load_allow(path):
    rules = []
    if not os.path.exists(path):
        return rules
    with open(path) as f:
        for n, l in enumerate(f, 1):
            l = l.rstrip('\n')
            if not l.strip() or l.lstrip().startswith('#'):
                continue
            parts = l.split(None, 2)
            if len(parts) < 3:
                raise SeriesError('%s:%d: PATTERN TYPE REASON' % (path, n))
            rules.append({'pattern': parts[0], 'type': parts[1], 'reason': parts[2], 'line': n, 'used': 0})
    return rules


ISSUE = re.compile(r'^(ERROR|WARNING|CHECK)(?::([A-Z0-9_]+))?: (.*)$')
WHERE = re.compile(r'^#\d+: FILE: (\S+?):(\d+):')
TOTAL = re.compile(r'^total: (\d+) errors?, (\d+) warnings?(?:, (\d+) checks?)?')


def checkpatch(cfg, patch, subject):
    r = subprocess.run(cfg['checkpatch'] + [patch], cwd=cfg['base_git'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = r.stdout.decode(errors='replace')
    issues, lines = [], text.split('\n')
    for i, l in enumerate(lines):
        mm = ISSUE.match(l)
        if not mm:
            continue
        f, n = '', ''
        for k in range(i + 1, min(i + 4, len(lines))):
            w = WHERE.match(lines[k])
            if w:
                f, n = w.groups()
                break
            if ISSUE.match(lines[k]):
                break
        issues.append({'level': mm.group(1), 'type': mm.group(2) or '', 'msg': mm.group(3),
                       'file': f, 'line': n, 'subject': subject})
    tot = [TOTAL.match(l) for l in lines]
    tot = [t for t in tot if t]
    if not tot:
        issues.append({'level': 'ERROR', 'type': 'CHECKPATCH_RUN', 'msg': 'checkpatch.pl did not finish: '
                       + ' | '.join(lines[-5:]), 'file': '', 'line': '', 'subject': subject})
    return issues, text


def allowed(rules, it):
    for r in rules:
        level, _, typ = r['type'].rpartition(':')
        if (level or 'CHECK') != it['level'] or typ not in ('*', it['type']):
            continue
        pat = r['pattern']
        if pat.startswith('subject:'):
            ok = fnmatch.fnmatchcase(it['subject'], pat[8:])
        else:
            ok = bool(it['file']) and fnmatch.fnmatchcase(it['file'], pat)
        if ok:
            r['used'] += 1
            return r
    return None


def patch_subject(path):
    with open(path, errors='replace') as f:
        text = f.read()
    mm = re.search(r'^Subject: (.*(?:\n .*)*)', text, re.M)
    subj = re.sub(r'\s*\n\s+', ' ', mm.group(1)) if mm else os.path.basename(path)
    return re.sub(r'^\[[^]]*\]\s*', '', subj)


def recipients(cfg, patch, maintainers_text):
    """(to, cc) for one patch, from get_maintainer.pl of the base tree with the
    series' MAINTAINERS, leaving out the patch's own MAINTAINERS hunk."""
    root = os.path.join(cfg['out'], '.gm-root')
    if not os.path.isdir(root):
        os.makedirs(root)
        for e in os.listdir(cfg['base_git']):
            if e not in ('.git', 'MAINTAINERS'):
                os.symlink(os.path.join(cfg['base_git'], e), os.path.join(root, e))
    with open(os.path.join(root, 'MAINTAINERS'), 'w') as f:
        f.write(maintainers_text)
    with open(patch, errors='surrogateescape') as f:
        text = f.read()
    text = re.sub(r'(?ms)^diff --git a/MAINTAINERS b/MAINTAINERS\n.*?(?=^diff --git |^-- \n|\Z)', '', text)
    tmp = os.path.join(root, '.patch')
    with open(tmp, 'w', errors='surrogateescape') as f:
        f.write(text)
    gm = cfg['get_maintainer']
    if gm[0] == 'perl':
        gm = ['perl', os.path.join(cfg['base_git'], gm[1])] + gm[2:]

    def run(extra):
        r = subprocess.run(gm + extra + [tmp], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode:
            raise SeriesError('get_maintainer.pl failed on %s: %s' % (os.path.basename(patch),
                                                                      r.stderr.decode(errors='replace')))
        return [l.strip() for l in r.stdout.decode(errors='replace').split('\n') if l.strip()]
    to = run(['--m', '--nor', '--nol'])
    cc = [a for a in run(['--nom', '--r', '--l']) if a not in to]
    return to, cc


def add_headers(path, to, cc):
    with open(path, errors='surrogateescape') as f:
        text = f.read()
    hdr = ''
    if to:
        hdr += 'To: ' + ',\n    '.join(to) + '\n'
    if cc:
        hdr += 'Cc: ' + ',\n    '.join(cc) + '\n'
    text = re.sub(r'(?m)^(Date: .*\n)', lambda mm: mm.group(1) + hdr, text, count=1)
    with open(path, 'w', errors='surrogateescape') as f:
        f.write(text)


def refill(para):
    """Re-wrap a paragraph (or a list of "- " items) whose numbers were filled in."""
    lines = para.split('\n')
    wrap = dict(width=72, break_on_hyphens=False, break_long_words=False)
    if lines[0].startswith('- ') and all(l.startswith(('- ', '  ')) for l in lines):
        items = []
        for l in lines:
            if l.startswith('- '):
                items.append(l[2:])
            else:
                items[-1] += ' ' + l.strip()
        return '\n'.join(textwrap.fill(i, initial_indent='- ', subsequent_indent='  ', **wrap)
                         for i in items)
    if any(l[:1].isspace() for l in lines):
        return para
    return textwrap.fill(' '.join(lines), **wrap)


def fill_cover(cfg, m, cover_patch, base_desc, base_ref, kept, plan):
    with open(os.path.join(cfg['upstream_dir'], m.cover), encoding='utf-8') as f:
        text = f.read()
    subject, _, blurb = text.partition('\n')
    blurb = blurb.strip('\n')
    def item(text):
        return textwrap.fill(text, 72, initial_indent='- ', subsequent_indent='  ',
                             break_on_hyphens=False, break_long_words=False)
    ck = '\n'.join(item('%s, %s (%d): %s' % (f or 'commit message', t, n, reason))
                   for (t, f, reason), n in kept) or '- none'
    nstext = '\n'.join(item('%s: %s' % (g, r)) for g, r, n in m.not_submitted) or '- none'
    def number(mm):
        hits = [i for i, sec in enumerate(m.sections, 1) if fnmatch.fnmatchcase(sec.subject, mm.group(1))]
        if len(hits) != 1:
            raise SeriesError('%s: @#%s@ matches %d patch subjects, not one'
                              % (m.cover, mm.group(1), len(hits)))
        return str(hits[0])
    blurb = '\n\n'.join(refill(re.sub(r'@#([^@\n]+)@', number, para)) if '@#' in para else para
                         for para in blurb.split('\n\n'))
    blurb = (blurb.replace('@BASE@', base_desc).replace('@BASE_TAG@', base_ref)
             .replace('@CHECKPATCH_CHECKS@', ck).replace('@NOT_SUBMITTED@', nstext))
    with open(cover_patch, errors='surrogateescape') as f:
        c = f.read()
    if '*** SUBJECT HERE ***' not in c or '*** BLURB HERE ***' not in c:
        raise SeriesError('%s: no placeholders to fill' % cover_patch)
    c = c.replace('*** SUBJECT HERE ***', subject.strip()).replace('*** BLURB HERE ***', blurb)
    with open(cover_patch, 'w', errors='surrogateescape') as f:
        f.write(c)


# --- driver ---------------------------------------------------------------------

class Tap:
    def __init__(self, on):
        self.on, self.n, self.failed = on, 0, 0

    def __call__(self, ok, name, diag=None):
        self.n += 1
        if not ok:
            self.failed += 1
        if self.on:
            print('%sok %d - %s' % ('' if ok else 'not ', self.n, name), flush=True)
            for l in (diag or '').split('\n'):
                if l and not ok:
                    print('# ' + l, flush=True)


def run_tree(kind, cfg, args, tap, report):
    """Build, check and format one series; returns a list of failure messages."""
    fails = []
    t = kind + ': '
    try:
        m = parse_manifest(cfg['manifest'])
        if m.tree != kind:
            raise SeriesError('%s: says "tree %s", expected %s' % (cfg['manifest'], m.tree, kind))
        plan = resolve(cfg, m)
        tap(True, t + 'manifest parses and accounts for every quilt patch and overlay file')
    except SeriesError as e:
        tap(False, t + 'manifest parses and accounts for every quilt patch and overlay file', str(e))
        return [str(e)]
    log('%s: %d patches in %s; not submitted: %d file(s)' % (kind, len(m.sections), plan.name, len(plan.skipped)))
    if args.lint:
        return fails
    base_ref = getattr(args, kind + '_base')
    base_desc = getattr(args, kind + '_base_desc') or base_ref
    try:
        base, commits = build_commits(cfg, m, plan, base_ref, args.identity, args.date)
    except SeriesError as e:
        tap(False, t + 'series commits built on ' + base_ref, str(e))
        return [str(e)]
    tip = commits[-1][0]
    errs = compare_tree(cfg, m, plan, base, tip)
    tap(not errs, t + 'series tree equals %s' % os.path.relpath(cfg['build_tree'], HP_ROOT), '\n'.join(errs))
    fails += errs
    if args.no_format:
        return fails
    patches, cover = format_patches(cfg, base_ref)
    if len(patches) != len(commits):
        fails.append('format-patch wrote %d patches for %d commits' % (len(patches), len(commits)))
    # the patches apply in order to the pristine base and give the same tree
    git = Git(cfg['base_git'], os.path.join(cfg['out'], '.index-apply'))
    git('read-tree', base)
    for i, p in enumerate(patches, 1):
        r = subprocess.run(['git', '--git-dir', git.gitdir, 'apply', '--cached', '--whitespace=nowarn', p],
                           env=git.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok = r.returncode == 0
        tap(ok, t + '%02d/%02d %s: applies to %s' % (i, len(patches), patch_subject(p), base_ref),
            r.stdout.decode(errors='replace'))
        if not ok:
            fails.append('%s does not apply to %s' % (os.path.basename(p), base_ref))
            break
    else:
        same = git('write-tree').strip() == git('rev-parse', tip + '^{tree}').strip()
        tap(same, t + 'the patches give the series tree')
        if not same:
            fails.append('applying the patches does not give the tree of refs/heads/series')
    os.unlink(os.path.join(cfg['out'], '.index-apply'))
    # checkpatch
    rules = load_allow(cfg['allow'])
    kept, per = {}, []
    jobs = max(1, min(len(patches), int(os.environ.get('HP_JOBS') or os.cpu_count() or 1)))
    # The first run alone: checkpatch.pl writes its CamelCase cache then.
    results = [checkpatch(cfg, patches[0], patch_subject(patches[0]))] if patches else []
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        results += list(ex.map(lambda p: checkpatch(cfg, p, patch_subject(p)), patches[1:]))
    for i, p in enumerate(patches, 1):
        subj = patch_subject(p)
        issues, text = results[i - 1]
        with open(p[:-len('.patch')] + '.checkpatch', 'w') as f:
            f.write(text)
        bad = []
        for it in issues:
            if it['level'] in ('CHECK', 'WARNING'):
                r = allowed(rules, it)
                it['allowed'] = r
                if r:
                    key = ('%s:%s' % (it['level'], it['type']) if it['type'] else it['level'],
                           it['file'], r['reason'])
                    kept[key] = kept.get(key, 0) + 1
                    continue
            bad.append(it)
        per.append((os.path.basename(p), issues))
        desc = '\n'.join('%s:%s %s:%s: %s' % (it['level'], it['type'], it['file'], it['line'], it['msg'])
                         for it in bad)
        tap(not bad, t + '%02d/%02d %s: checkpatch clean' % (i, len(patches), subj), desc)
        for it in bad:
            fails.append('%s: %s:%s %s:%s: %s' % (os.path.basename(p), it['level'], it['type'],
                                                  it['file'], it['line'], it['msg']))
    report.append((kind, cfg, per))
    # recipients
    try:
        mt = Git(cfg['base_git'])('show', 'refs/heads/series:MAINTAINERS')
        rec, all_to, all_cc = [], [], []
        me = args.identity
        for p in patches:
            to, cc = recipients(cfg, p, mt)
            to = [a for a in to if a != me]
            cc = [a for a in cc if a != me and a not in to]
            rec.append((os.path.basename(p), to, cc))
            add_headers(p, to, cc)
            all_to += [a for a in to if a not in all_to]
            all_cc += [a for a in cc if a not in all_cc]
        all_cc = [a for a in all_cc if a not in all_to]
        add_headers(cover, all_to, all_cc)
        with open(os.path.join(cfg['out'], 'recipients.txt'), 'w') as f:
            f.write('# get_maintainer.pl (%s) of %s with the series\' MAINTAINERS\n'
                    % (' '.join(cfg['get_maintainer'][2:]), base_ref))
            f.write('# To: maintainers (M:); Cc: reviewers (R:) and lists (L:).  '
                    'The cover letter goes to all of them.\n')
            for name, to, cc in [(os.path.basename(cover), all_to, all_cc)] + rec:
                f.write('%s\n  To: %s\n  Cc: %s\n' % (name, ', '.join(to) or '-', ', '.join(cc) or '-'))
        tap(bool(all_to), t + 'recipients found (%d To, %d Cc)' % (len(all_to), len(all_cc)))
        if not all_to:
            fails.append('get_maintainer.pl found no maintainer for any patch')
    except SeriesError as e:
        tap(False, t + 'recipients found', str(e))
        fails.append(str(e))
    try:
        fill_cover(cfg, m, cover, base_desc, base_ref,
                   sorted(kept.items(), key=lambda kv: (kv[0][0], kv[0][1])), plan)
    except (SeriesError, OSError) as e:
        fails.append(str(e))
    log('%s: %d patches + cover letter in %s' % (kind, len(patches), os.path.relpath(cfg['out'], HP_ROOT)))
    return fails


def write_report(path, report, rules_file):
    tot = [0, 0, 0, 0, 0]
    out = []
    for kind, cfg, per in report:
        k = [0, 0, 0, 0, 0]
        out.append('== %s: %s, checkpatch: %s' % (kind, os.path.relpath(cfg['out'], HP_ROOT),
                                                  ' '.join(cfg['checkpatch'][1:])))
        for name, issues in per:
            e = sum(1 for i in issues if i['level'] == 'ERROR')
            w = sum(1 for i in issues if i['level'] == 'WARNING')
            c = sum(1 for i in issues if i['level'] == 'CHECK')
            a = sum(1 for i in issues if i.get('allowed'))
            for j, v in enumerate((e, w, c, a, 1)):
                k[j] += v
            out.append('%s: %d errors, %d warnings, %d checks (%d allowed)' % (name, e, w, c, a))
            for i in issues:
                why = ' [allowed: %s]' % i['allowed']['reason'] if i.get('allowed') else ''
                out.append('    %s:%s %s:%s: %s%s' % (i['level'], i['type'], i['file'], i['line'], i['msg'], why))
        out.append('%s total: %d errors, %d warnings, %d checks (%d allowed) in %d patches'
                   % (kind, k[0], k[1], k[2], k[3], k[4]))
        out.append('')
        for j in range(5):
            tot[j] += k[j]
    out.append('total: %d errors, %d warnings, %d checks in %d patches; %d of the warnings and '
               'checks are justified in %s'
               % (tot[0], tot[1], tot[2], tot[4], tot[3], os.path.relpath(rules_file, HP_ROOT)))
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return out[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('kinds', nargs='*', default=['linux', 'qemu'])
    ap.add_argument('--identity', default='HyperPlace developers <hyperplace@example.org>')
    ap.add_argument('--date', default='2000-01-01T00:00:00Z')
    ap.add_argument('--linux-base', default='base')
    ap.add_argument('--linux-base-desc', default='')
    ap.add_argument('--qemu-base', default='base')
    ap.add_argument('--qemu-base-desc', default='')
    ap.add_argument('--tap', action='store_true', help='TAP on stdout, go on after failures')
    ap.add_argument('--lint', action='store_true', help='only parse the manifests and check coverage')
    ap.add_argument('--no-format', action='store_true', help='stop after the tree comparison')
    ap.add_argument('--config', help='JSON: {"linux": {setting: value}, ...} overriding the defaults')
    ap.add_argument('--report', default=os.path.join(HP_BUILD, 'series', 'checkpatch.txt'))
    args = ap.parse_args()
    cfgs = defaults()
    if args.config:
        with open(args.config) as f:
            for k, v in json.load(f).items():
                cfgs.setdefault(k, {}).update(v)
    tap = Tap(args.tap)
    if args.tap:
        print('TAP version 13', flush=True)
    fails, report = [], []
    for kind in args.kinds:
        if kind not in cfgs:
            print('series.py: unknown tree %s' % kind, file=sys.stderr)
            return 2
        try:
            fails += ['%s: %s' % (kind, f) for f in run_tree(kind, cfgs[kind], args, tap, report)]
        except SeriesError as e:
            tap(False, kind + ': series', str(e))
            fails.append('%s: %s' % (kind, e))
    if report:
        os.makedirs(os.path.dirname(args.report), exist_ok=True)
        total = write_report(args.report, report, cfgs[report[0][0]]['allow'])
        log('checkpatch: %s (%s)' % (total, os.path.relpath(args.report, HP_ROOT)))
    if args.tap:
        print('1..%d' % tap.n, flush=True)
    if fails:
        for f in fails:
            for l in f.split('\n'):
                print('[series] ERROR: %s' % l, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
