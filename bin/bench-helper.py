#!/usr/bin/env python3
"""Helpers of bin/bench: data set generator, the two Python workloads, daemon lookup, report.

Standard library only. Subcommands:
  gen DIR --files N --dirs D --layers L --big-mib M --src-files S   build the data set once
  append LIST                       append one byte to every file named in LIST (NUL-separated)
  storm DIR N                       create N files in DIR, rename each, unlink each, remove DIR
  pid-of MOUNTPOINT                 pid of the process that has MOUNTPOINT as an argument
  report RESULTS --contenders C --md OUT   print the table, write its Markdown to OUT
"""
import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tarfile

FILE_SIZE = 1024
CHUNK = 1 << 20


def gen(args):
    """Layers l0 (top) .. l{L-1}: every directory in every layer, each file in exactly one layer.

    Besides the layers: native/ (a plain directory with the merged content, copies of the
    layers' files: hard links would give every layer file st_nlink 2, which an overlay that
    keeps lower hard links (overlay4j, the kernel's index=on) must treat specially), files.list
    (NUL-separated relative paths of the small files), src.tar (the untar workload's source)
    and expect (numbers a correct run must reproduce). Content is seeded, so reruns agree.
    """
    root = args.dir
    layers = [os.path.join(root, "layers", f"l{i}") for i in range(args.layers)]
    native = os.path.join(root, "native")
    for d in layers + [native]:
        shutil.rmtree(d, ignore_errors=True)
    rng = random.Random(4242)
    per_dir = args.files // args.dirs
    names = []
    for d in range(args.dirs):
        dname = f"d{d:04d}"
        for layer in layers + [native]:
            os.makedirs(os.path.join(layer, dname))
        for k in range(per_dir):
            i = d * per_dir + k
            rel = f"{dname}/f{i:06d}"
            with open(os.path.join(layers[i % args.layers], rel), "wb") as f:
                f.write(rng.randbytes(FILE_SIZE))
            shutil.copy2(os.path.join(layers[i % args.layers], rel), os.path.join(native, rel))
            names.append(rel)
    with open(os.path.join(root, "files.list"), "wb") as f:
        f.write(b"\0".join(n.encode() for n in names) + b"\0")
    # The big file lives in the bottom layer: reading it crosses every layer above.
    big_rng = random.Random(7)
    block = big_rng.randbytes(CHUNK)
    with open(os.path.join(layers[-1], "big.bin"), "wb") as f:
        for n in range(args.big_mib):
            f.write(n.to_bytes(8, "little") + block[8:])
    shutil.copy2(os.path.join(layers[-1], "big.bin"), os.path.join(native, "big.bin"))
    write_source_tar(os.path.join(root, "src.tar"), args.src_files)
    with open(os.path.join(root, "expect"), "w") as f:
        f.write(f"FILES={len(names)}\n")
        f.write(f"ENTRIES={1 + args.dirs + len(names) + 1}\n")  # '.', dirs, files, big.bin
        f.write(f"SMALL_BYTES={len(names) * FILE_SIZE}\n")
        f.write(f"BIG_BYTES={args.big_mib * CHUNK}\n")
        f.write(f"SRC_FILES={args.src_files}\n")


def write_source_tar(path, count):
    """A source-tree-like tarball: nested dirs, files of 100 B to 16 KiB, fixed owner and times."""
    rng = random.Random(99)
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        made = set()
        for i in range(count):
            parts = [f"pkg{i % 8}", f"mod{(i // 8) % 30}", f"sub{(i // 240) % 5}"]
            for depth in range(1, len(parts) + 1):
                d = "src/" + "/".join(parts[:depth])
                if d not in made:
                    made.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                    tar.addfile(info)
            data = rng.randbytes(rng.randint(100, 16384))
            info = tarfile.TarInfo("src/" + "/".join(parts) + f"/file{i:05d}.c")
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))


def append(args):
    with open(args.list, "rb") as f:
        names = [n for n in f.read().split(b"\0") if n]
    for n in names:
        with open(n, "ab") as f:
            f.write(b"x")
    print(len(names))


def storm(args):
    d, n = args.dir, args.n
    os.mkdir(d)
    for i in range(n):
        os.close(os.open(f"{d}/a{i}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    for i in range(n):
        os.rename(f"{d}/a{i}", f"{d}/b{i}")
    for i in range(n):
        os.unlink(f"{d}/b{i}")
    left = os.listdir(d)
    os.rmdir(d)
    print(3 * n if not left else f"left {len(left)} entries")


def pid_of(args):
    """The daemon serving a mount: the process (not this one) with the mount point in argv."""
    want = args.mountpoint.encode()
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if want in argv:
                with open(f"/proc/{p}/status") as f:
                    rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
                found.append((rss, int(p)))
        except OSError:
            pass
    if not found:
        sys.exit(1)
    print(max(found)[1])


def fmt_ms(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def report(args):
    """results: workload contender round status ms cpu_s hwm_kib note (tab-separated)."""
    rows, order = {}, []
    with open(args.results) as f:
        for line in f:
            w, c, _, status, ms, cpu, hwm, note = line.rstrip("\n").split("\t")
            if w not in order:
                order.append(w)
            rows.setdefault((w, c), []).append((status, ms, cpu, hwm, note))
    contenders = args.contenders.split(",")
    header = ["workload", "contender", "median ms", "spread ms (min-max)", "x native",
              "x fuse-overlayfs", "daemon CPU s", "daemon peak RSS MiB", "note"]
    table = []
    for w in order:
        medians = {}
        for c in contenders:
            ok = [float(r[1]) for r in rows.get((w, c), []) if r[0] == "ok"]
            if ok:
                medians[c] = statistics.median(ok)
        for c in contenders:
            rs = rows.get((w, c))
            if not rs:
                continue
            bad = [r for r in rs if r[0] != "ok"]
            if c not in medians:
                table.append([w, c, "-", "-", "-", "-", "-", "-", f"{bad[0][0]}: {bad[0][4]}"])
                continue
            ok = [r for r in rs if r[0] == "ok"]
            times = [float(r[1]) for r in ok]
            m = medians[c]
            ratio = lambda ref: f"{m / medians[ref]:.2f}" if ref in medians and medians[ref] > 0 else "-"
            cpus = [float(r[2]) for r in ok if r[2] != "-"]
            hwms = [int(r[3]) for r in ok if r[3] != "-"]
            notes = sorted({r[4] for r in ok if r[4]})
            if bad:
                notes.append(f"{len(bad)} of {len(rs)} rounds {bad[0][0]}: {bad[0][4]}")
            table.append([w, c, fmt_ms(m), f"{fmt_ms(min(times))}-{fmt_ms(max(times))}" + f" (n={len(times)})",
                          ratio("native"), ratio("fuse-overlayfs"),
                          f"{statistics.median(cpus):.2f}" if cpus else "-",
                          f"{max(hwms) / 1024:.0f}" if hwms else "-", "; ".join(notes)])
    widths = [max(len(str(r[i])) for r in [header] + table) for i in range(len(header))]
    for r in [header] + table:
        print("  ".join(str(v).ljust(widths[i]) for i, v in enumerate(r)).rstrip())
    with open(args.md, "w") as f:
        f.write("| " + " | ".join(header) + " |\n")
        f.write("|" + "|".join("---" if i in (0, 1, 8) else "--:" for i in range(len(header))) + "|\n")
        for r in table:
            f.write("| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--files", type=int, required=True)
    g.add_argument("--dirs", type=int, required=True)
    g.add_argument("--layers", type=int, required=True)
    g.add_argument("--big-mib", type=int, default=512)
    g.add_argument("--src-files", type=int, default=4000)
    a = sub.add_parser("append")
    a.add_argument("list")
    s = sub.add_parser("storm")
    s.add_argument("dir")
    s.add_argument("n", type=int)
    q = sub.add_parser("pid-of")
    q.add_argument("mountpoint")
    r = sub.add_parser("report")
    r.add_argument("results")
    r.add_argument("--contenders", required=True)
    r.add_argument("--md", required=True)
    args = p.parse_args()
    {"gen": gen, "append": append, "storm": storm, "pid-of": pid_of, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
