#!/usr/bin/env bash
# docs-check.sh: build the HyperPlace documents with the kernel's own
# Sphinx setup, warnings fatal, and check the sysfs ABI file.  TAP on stdout,
# one result per document and one for the ABI file; progress on stderr; exit
# status non-zero if any result fails.
#
#   Documentation/admin-guide/mm/hyperplace.rst
#   Documentation/mm/hyperplace.rst
#   Documentation/virt/hyperflex.rst
#   Documentation/ABI/testing/sysfs-kernel-mm-hyperplace
#
# How: a small Sphinx source directory, build/docs/src, holds links to the
# three files at their in-tree paths (so :doc: links between them resolve as
# in the kernel's build) and a generated index.rst whose toctree lists them.
# It is built with the kernel's own Documentation/conf.py and the settings
# Documentation/Makefile passes (-c Documentation, kerneldoc_srctree,
# kerneldoc_bin, version, release; no SPHINX_CONF):
#
#   sphinx-build -q -W --keep-going -E -a -b html -c build/linux/Documentation \
#     -D kerneldoc_srctree=build/linux \
#     -D kerneldoc_bin=build/linux/scripts/kernel-doc ... build/docs/src build/docs/html
#
# so the kernel's extensions all load (kerneldoc, rstFlatTable,
# kernel_include, kfigure, automarkup, autosectionlabel, kernel_abi, ...;
# cdomain only for Sphinx < 3, newer ones use Sphinx's C domain with the
# kernel's c_id_attributes), every `.. kernel-doc::` directive runs
# scripts/kernel-doc over our sources, and no warning is suppressed.  -E -a
# re-read and re-write every document on every run: Sphinx reports only the
# warnings of the documents it re-reads, so an incremental build would report
# a warning once and pass the next time.  Cold or warm, about 3-4 s.
#
# Why not `make SPHINXDIRS="mm admin-guide virt" htmldocs`: it builds each
# directory as a project of its own (mm alone is ~100 documents, admin-guide
# several hundred) and every run also parses the media uAPI headers and
# writes the netlink specs into the source tree.  SPHINXDIRS=mm alone took
# 13 s cold and 8 s warm here, with 33 warnings from the kernel's own
# documents (references to other directories) among which ours would have to
# be picked out, and a warm run re-reports nothing, as said above.
#
# What a small build cannot see, this checks directly: that each document is
# in the toctree of its directory's index.rst (patches/linux/0002, 0008),
# and that an explicit label (.. _name:) of ours is not also defined in the
# kernel's Documentation/ (a "duplicate label" in the full build).  Kernel
# documents that ours reference with :doc: or :ref: are linked in too (in a
# hidden toctree) so that such references resolve; their own warnings, and
# warnings that name none of our files, are shown but do not fail us.
# kernel-doc's own warnings about our sources (not Sphinx warnings, so
# sphinx-build exits 0 on them) count against the document that pulls the
# source in.  Limit: an `.. include::` or figure of ours with a relative path
# would be looked for under build/docs/src and reported missing.
#
# The ABI file (/sys/kernel/mm/hyperplace/).  scripts/get_abi.pl reads a
# directory, so it gets build/docs/abi/Documentation/ABI holding only a copy
# of our file at its in-tree path.  Its result: `get_abi.pl validate` prints
# nothing, `get_abi.pl rest` turns every What: into an entry, and the rest
# output builds without warnings (the Sphinx build above renders it in a
# page of its own, abi-hyperplace, with the `.. kernel-abi::` directive and
# :rst: as Documentation/admin-guide/abi-testing.rst does).  That the What:
# lines name exactly the files a running kernel creates is checked against
# the test guest by scripts/abi-sysfs-check.sh in make check.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=docs
log() { hp_log "$@" >&2; }

SPHINXBUILD=${SPHINXBUILD:-/usr/bin/sphinx-build}
# Debian's Sphinx runs on Debian's Python, whatever python3 is first in PATH.
PY=/usr/bin/python3
out=$HP_BUILD/docs
kdoc=$HP_LINUX_SRC/Documentation
docs=(admin-guide/mm/hyperplace.rst mm/hyperplace.rst virt/hyperflex.rst)

if [ ! -x "$SPHINXBUILD" ] || ! command -v dot >/dev/null; then
	"$HP_ROOT/scripts/host-deps.sh" >&2 || exit 1
fi
[ -f "$kdoc/conf.py" ] ||
	hp_die "$kdoc/conf.py missing: run scripts/prepare-linux.sh (make linux-src)"
for d in "${docs[@]}"; do
	[ "$(readlink -f "$kdoc/$d")" = "$(readlink -f "$HP_ROOT/Documentation/$d")" ] ||
		hp_die "$kdoc/$d is not the repository's copy: run scripts/prepare-linux.sh (make linux-src)"
done

mkdir -p "$out"
kver=$(make -s -C "$HP_LINUX_SRC" kernelversion)
log "$("$SPHINXBUILD" --version), docutils $("$PY" -c 'import docutils; print(docutils.__version__)'), conf.py and extensions of Linux $kver"

# PYTHONDONTWRITEBYTECODE as in Documentation/Makefile: no __pycache__ in
# build/linux/Documentation/sphinx.
HP_DOCS="${docs[*]}" HP_OUT=$out HP_KSRC=$HP_LINUX_SRC HP_ROOT=$HP_ROOT \
SPHINXBUILD=$SPHINXBUILD KVER=$kver PYTHONDONTWRITEBYTECODE=1 exec "$PY" - <<'PY'
import os, re, shutil, subprocess, sys, time

docs = os.environ["HP_DOCS"].split()
out = os.environ["HP_OUT"]
ksrc = os.environ["HP_KSRC"]
root = os.environ["HP_ROOT"]
kdoc = os.path.join(ksrc, "Documentation")
src = os.path.join(out, "src")
log_path = os.path.join(out, "sphinx.log")


def log(msg):
    print("[docs] " + msg, file=sys.stderr, flush=True)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def docname(path):          # "mm/hyperplace.rst" -> "mm/hyperplace"
    return path[:-4] if path.endswith(".rst") else path


# --- what our documents refer to --------------------------------------------
ROLE = re.compile(r":(doc|ref):`([^`]+)`")
LABEL_DEF = re.compile(r"^\.\. _([^:`]+|`[^`]+`):\s*$", re.M)
KDOC = re.compile(r"^\s*\.\. kernel-doc::\s*(\S+)", re.M)

kdoc_files = {}             # our doc -> absolute paths kernel-doc reads
our_labels = {}             # label -> our doc defining it
wanted = set()              # kernel documents (docnames) that ours reference
for d in docs:
    text = read(os.path.join(root, "Documentation", d))
    kdoc_files[d] = [os.path.join(ksrc, f) for f in KDOC.findall(text)]
    for m in LABEL_DEF.finditer(text):
        our_labels[m.group(1).strip("`").lower()] = d
ours = {docname(d) for d in docs}
abi_page = "abi-hyperplace"    # renders the ABI file in the Sphinx build
kernel_labels = None        # explicit label -> kernel documents defining it


def kernel_label_docs(label):
    global kernel_labels
    if kernel_labels is None:
        kernel_labels = {}
        r = subprocess.run(["grep", "-rHE", "--include=*.rst",
                            r"^\.\. _[^:]+:[[:space:]]*$", kdoc],
                           capture_output=True, text=True, errors="replace")
        for line in r.stdout.splitlines():
            path, _, defn = line.partition(":.. _")
            name = defn.rstrip().rstrip(":").strip("`").lower()
            kernel_labels.setdefault(name, []).append(os.path.relpath(path, kdoc))
    return sorted(set(kernel_labels.get(label, [])))


for d in docs:
    text = read(os.path.join(root, "Documentation", d))
    for role, arg in ROLE.findall(text):
        m = re.search(r"<([^>]+)>$", arg)
        target = (m.group(1) if m else arg).lstrip("~").strip()
        if role == "doc":
            if target.startswith("/"):
                name = target[1:]
            else:
                name = os.path.normpath(os.path.join(os.path.dirname(d), target))
            if name not in ours and os.path.isfile(os.path.join(kdoc, name + ".rst")):
                wanted.add(name)
        elif ":" in target:      # autosectionlabel: doc/path:Section title
            name = target.split(":", 1)[0]
            if name not in ours and os.path.isfile(os.path.join(kdoc, name + ".rst")):
                wanted.add(name)
        elif target.lower() not in our_labels:
            for p in kernel_label_docs(target.lower()):
                if docname(p) not in ours:
                    wanted.add(docname(p))

# --- the sysfs ABI file ------------------------------------------------------
ABI_REL = "Documentation/ABI/testing/sysfs-kernel-mm-hyperplace"
# get_abi.pl reads a directory: one holding only a copy of our file, at its
# in-tree path.
abi_src = os.path.join(root, ABI_REL)
abi_top = os.path.join(out, "abi")
abi_dir = os.path.join(abi_top, "Documentation", "ABI")
shutil.rmtree(abi_top, ignore_errors=True)
os.makedirs(os.path.join(abi_dir, "testing"))
abi_problems, abi_whats = [], []
if os.path.isfile(abi_src):
    shutil.copyfile(abi_src, os.path.join(abi_top, ABI_REL))
    abi_whats = re.findall(r"^What:[ \t]*(\S+?)[,.;]?[ \t]*$", read(abi_src), re.M | re.I)
    if not abi_whats:
        abi_problems.append("%s has no What: line" % ABI_REL)
else:
    abi_problems.append("%s missing" % ABI_REL)
get_abi = os.path.join(ksrc, "scripts", "get_abi.pl")
if abi_whats:
    for what in ("validate", "rest"):
        r = subprocess.run(["perl", get_abi, what, "--dir", abi_dir],
                           capture_output=True, text=True, errors="replace")
        noise = (r.stderr + ("" if what == "rest" else r.stdout)).strip()
        if what == "rest" and abi_problems:
            noise = ""          # the same parse warnings again
        if r.returncode or noise:
            abi_problems.append("get_abi.pl %s (exit %d):\n%s" % (
                what, r.returncode, noise.replace(abi_dir + "/", "Documentation/ABI/")))
        if what == "rest":
            entries = {re.sub(r"\\(.)", r"\1", n) for n in
                       re.findall(r"^\| \*\*(.+?)\*\* *\|$", r.stdout, re.M)}
            for w in sorted(set(abi_whats) - entries):
                abi_problems.append("get_abi.pl rest: no entry for What: %s" % w)
            log("get_abi.pl rest: %d entries for the %d What: lines of %s"
                % (len(re.findall(r"^\.\. _abi_(?!file_)", r.stdout, re.M)),
                   len(abi_whats), ABI_REL))
# --- the source directory ----------------------------------------------------
shutil.rmtree(src, ignore_errors=True)
for d in docs:
    os.makedirs(os.path.dirname(os.path.join(src, d)), exist_ok=True)
    os.symlink(os.path.join(root, "Documentation", d), os.path.join(src, d))
for name in sorted(wanted):
    dst = os.path.join(src, name + ".rst")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.symlink(os.path.realpath(os.path.join(kdoc, name + ".rst")), dst)
with open(os.path.join(src, "index.rst"), "w") as f:
    f.write("HyperPlace documents\n====================\n\n"
            ".. toctree::\n   :maxdepth: 1\n\n")
    f.writelines("   %s\n" % docname(d) for d in docs)
    f.write("   %s\n" % abi_page)
    if wanted:
        f.write("\n.. toctree::\n   :hidden:\n\n")
        f.writelines("   %s\n" % n for n in sorted(wanted))
with open(os.path.join(src, abi_page + ".rst"), "w") as f:
    f.write("HyperPlace sysfs ABI\n====================\n\n"
            ".. kernel-abi:: %s\n   :rst:\n" % abi_dir)
if wanted:
    log("kernel documents ours refer to, linked in: " + " ".join(sorted(wanted)))

# --- build --------------------------------------------------------------------
cmd = [os.environ["SPHINXBUILD"], "-q", "-W", "--keep-going", "-E", "-a",
       "-b", "html", "-c", kdoc, "-d", os.path.join(out, "doctrees"),
       "-D", "version=" + os.environ["KVER"], "-D", "release=" + os.environ["KVER"],
       "-D", "kerneldoc_srctree=" + ksrc,
       "-D", "kerneldoc_bin=" + os.path.join(ksrc, "scripts", "kernel-doc"),
       src, os.path.join(out, "html")]
log("sphinx-build ... %s -> %s" % (src, os.path.join(out, "html")))
# As for SPHINXDIRS=. in the kernel's Makefile: no SPHINX_CONF, no subproject tag.
env = {k: v for k, v in os.environ.items() if k != "SPHINX_CONF"}
env["srctree"] = ksrc       # kernel_abi.py runs $srctree/scripts/get_abi.pl
t0 = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   text=True, errors="replace", env=env)
with open(log_path, "w") as f:
    f.write("$ " + " ".join(cmd) + "\n" + p.stdout)
log("sphinx-build exit %d in %.1f s, log %s" % (p.returncode, time.monotonic() - t0, log_path))

# --- warnings: whose are they? ------------------------------------------------
# Sphinx:     [LOCATION: ]WARNING|ERROR|CRITICAL: message (more lines may follow)
# kernel-doc: [FILE:LINE: ]warning|Warning|error|Error: message (its stderr,
#             which the kerneldoc extension passes on, before its own warning)
START = re.compile(r"^(?:.*?:? )?(?:WARNING|ERROR|CRITICAL|SEVERE|[Ww]arning|[Ee]rror):\s")
NOISE = re.compile(r"^(Using \w+ theme$|build finished with problems|"
                   r"build succeeded|The HTML pages are in)")
records = []
for line in p.stdout.splitlines():
    if START.match(line):
        records.append([line])
    elif records and not NOISE.match(line) and line.strip():
        records[-1].append(line)


def short(text):
    # kernel-abi names the file $dir/NAME (no testing/), relative to $srctree
    for d in (abi_dir, os.path.relpath(abi_dir, ksrc)):
        text = text.replace(os.path.join(d, os.path.basename(ABI_REL)), ABI_REL)
    text = text.replace(os.path.join(abi_top, ABI_REL), ABI_REL)
    text = text.replace(src + "/", "Documentation/").replace(kdoc + "/", "Documentation/")
    return text.replace(ksrc + "/", "").replace(root + "/", "")


per_doc = {d: [] for d in docs}
others = []
for rec in records:
    text = "\n".join(rec)
    if os.path.basename(ABI_REL) in text or os.path.join(src, abi_page) in text:
        seen = "\n".join(abi_problems)     # kernel-abi repeats get_abi.pl's warnings
        if not all(line.strip() in seen for line in short(text).splitlines()):
            abi_problems.append(short(text))
        continue
    hits = []
    for d in docs:
        base = os.path.join(src, docname(d))
        if re.search(re.escape(base) + r"(\.rst)?:", text) or \
           os.path.join(root, "Documentation", d) in text or \
           any(re.search(re.escape(f) + r"\b", text) for f in kdoc_files[d]):
            hits.append(d)
    for d in hits:
        per_doc[d].append(short(text))
    if not hits:
        others.append(short(text))

# --- what only the full build would see ---------------------------------------
for d in docs:
    index = os.path.join(kdoc, os.path.dirname(d), "index.rst")
    entry = os.path.splitext(os.path.basename(d))[0]
    if not re.search(r"^\s+%s\s*$" % re.escape(entry), read(index), re.M):
        per_doc[d].append("Documentation/%s: WARNING: document isn't included in any "
                          "toctree (not listed in %s)" % (d, short(index)))
for label, d in sorted(our_labels.items()):
    dups = [p for p in kernel_label_docs(label) if p not in docs]
    if dups:
        per_doc[d].append("Documentation/%s: WARNING: duplicate label %s, other "
                          "instance in Documentation/%s" % (d, label, ", ".join(dups)))

broken = p.returncode not in (0, 1) or (p.returncode == 1 and not records)
results = [("docs: Documentation/%s builds without warnings" % d, list(per_doc[d]), docname(d))
           for d in docs]
results.append(("abi: %s passes get_abi.pl validate and rest, and builds without "
                "warnings" % ABI_REL, abi_problems, abi_page))
print("TAP version 13")
print("1..%d" % len(results))
failed = 0
for i, (name, problems, page) in enumerate(results, 1):
    if broken:
        problems.append("sphinx-build failed (exit %d); last lines of %s:\n%s" %
                        (p.returncode, short(log_path),
                         "\n".join(p.stdout.splitlines()[-15:])))
    elif not os.path.isfile(os.path.join(out, "html", page + ".html")):
        problems.append("no HTML written for it")
    if problems:
        failed += 1
        print("not ok %d - %s" % (i, name))
        for pr in problems:
            for line in pr.splitlines():
                print("# " + line)
    else:
        print("ok %d - %s" % (i, name))
if others:
    print("# %d warning(s) not in our documents (kernel files, or no location); "
          "shown, not counted:" % len(others))
    for o in others:
        for line in o.splitlines():
            print("#   " + line)
print("# HTML: %s/html/index.html" % short(out))
sys.exit(1 if failed else 0)
PY
