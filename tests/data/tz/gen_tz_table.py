#!/usr/bin/env python3
"""Reference table for whyflag's time zones (src/data/tz.c), from Python's zoneinfo.

Writes tests/data/tz/tz_table.tsv: one row per (zone, naive local time) with the UTC instant
Python's zoneinfo gives it, and whether it is unique, ambiguous (the repeated hour of a clock
change: the earlier instant, fold=0) or nonexistent (skipped by a clock change).

Zones: system zones from /usr/share/zoneinfo (Debian's tzdata), at local times around every
transition of chosen years (1980-2024, settled history, so tzdata updates do not change them) and
random times; after 2037 (past the last transition of a "fat" TZif file) the POSIX footer rule
applies, and those rows are tagged with the footer they were computed with (the C test skips them
when the system's footer differs, i.e. a future tzdata changed the rule). Hand-made TZif files
under tests/data/tz/zoneinfo/Test/ (written here) exercise the footer rule (no transitions at
all), v1 files, "J"/"n" rule dates and negative rule times independently of the system's tzdata.

Run from the repository root: python3 tests/data/tz/gen_tz_table.py
"""
import datetime as dt
import os
import random
import struct
import sys
import time
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDIR = os.path.join(HERE, "zoneinfo")
UTC = dt.timezone.utc

SYSTEM = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
          "Pacific/Apia"]


def tzif(version, trans, idx, types, footer):
    """A TZif file: types = [(utoff, isdst, abbr)], trans (UTC seconds) with type idx."""
    chars = b""
    tt = []
    for off, isdst, ab in types:
        pos = len(chars)
        chars += ab.encode() + b"\0"
        tt.append(struct.pack(">lBB", off, isdst, pos))

    def block(wide):
        fmt = ">q" if wide else ">l"
        hdr = b"TZif" + (version if version != b"1" else b"\0") + b"\0" * 15
        hdr += struct.pack(">6l", 0, 0, 0, len(trans), len(types), len(chars))
        body = b"".join(struct.pack(fmt, t) for t in trans) + bytes(idx) + b"".join(tt) + chars
        return hdr + body

    if version == b"1":
        return block(False)
    return block(False) + block(True) + b"\n" + footer.encode() + b"\n"


TEST_ZONES = {
    # footer only: Lord Howe's rule (30-minute DST, southern hemisphere)
    "Test/FooterLordHowe": (b"3", [], [], [(37800, 0, "+1030")],
                            "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"),
    # footer only: Berlin's rule
    "Test/FooterBerlin": (b"2", [], [], [(3600, 0, "CET")], "CET-1CEST,M3.5.0,M10.5.0/3"),
    # footer only: negative rule times (v3), as America/Nuuk's
    "Test/FooterNegative": (b"3", [], [], [(-7200, 0, "-02")], "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"),
    # footer only: Julian-day rules, J (Feb 29 never counted) and n (zero-based)
    "Test/FooterJulian": (b"2", [], [], [(-18000, 0, "EST")], "EST5EDT,J60/2,300/2"),
    # v1 (32-bit only, no footer): two transitions, then the last type forever
    "Test/V1": (b"1", [504901800, 820454400], [1, 2],
                [(19800, 0, "+0530"), (20700, 0, "+0545"), (-36000, 0, "-10")], None),
    # v2 with transitions and a footer that takes over after them
    "Test/V2Tail": (b"2", [1000000000, 1100000000], [1, 0],
                    [(3600, 0, "CET"), (7200, 1, "CEST")], "CET-1CEST,M3.5.0,M10.5.0/3"),
}


def write_test_zones():
    os.makedirs(os.path.join(TESTDIR, "Test"), exist_ok=True)
    for name, (ver, trans, idx, types, footer) in TEST_ZONES.items():
        with open(os.path.join(TESTDIR, name), "wb") as f:
            f.write(tzif(ver, trans, idx, types, footer))


def footer_of(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[4:5] in (b"\0", b"1"):
        return ""
    return data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode()


def classify(z, local):
    """(kind, utc seconds or None) for a naive local datetime in zone z."""
    sols = set()
    for fold in (0, 1):
        a = local.replace(tzinfo=z, fold=fold)
        u = a.astimezone(UTC)
        back = u.astimezone(z).replace(tzinfo=None, fold=0)
        if back == local:
            sols.add(int((u - dt.datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()))
    if not sols:
        return "nonexistent", None
    e0 = int((local.replace(tzinfo=z, fold=0).astimezone(UTC) -
              dt.datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    if len(sols) > 1:
        assert e0 == min(sols), (z, local)  # fold=0 is the earlier instant
        return "ambiguous", min(sols)
    assert e0 in sols
    return "unique", e0


def classify_glibc(footer, local):
    """The same question put to glibc (TZ=footer in this script's own process, tzset): the
    instants u with u + offset(u) = L, offsets read from localtime(u).tm_gmtoff."""
    os.environ["TZ"] = footer
    time.tzset()
    L = int((local - dt.datetime(1970, 1, 1)).total_seconds())
    offs = {time.localtime(L + h * 3600).tm_gmtoff for h in range(-60, 61)}
    sols = sorted(L - o for o in offs if time.localtime(L - o).tm_gmtoff == o)
    if not sols:
        return "nonexistent", None
    return ("ambiguous" if len(sols) > 1 else "unique"), sols[0]


def offset(z, t):
    return dt.datetime.fromtimestamp(t, tz=z).utcoffset().total_seconds()


def transitions(z, y0, y1):
    """UTC instants where the offset changes, in [y0, y1)."""
    t = int(dt.datetime(y0, 1, 1, tzinfo=UTC).timestamp())
    end = int(dt.datetime(y1, 1, 1, tzinfo=UTC).timestamp())
    out = []
    step = 6 * 3600
    o = offset(z, t)
    while t < end:
        o2 = offset(z, t + step)
        if o2 != o:
            lo, hi = t, t + step  # offset(lo) = o, offset(hi) = o2
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(z, mid) == o:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, int(o), int(o2)))
            o = o2
        t += step
    return out


def local_points(tr):
    """Local times around a transition at UTC T from offset o1 to o2."""
    T, o1, o2 = tr
    pts = set()
    for base in (T + o1, T + o2):
        for d in (-3600, -1801, -60, -1, 0, 1, 60, 1799, 3600):
            pts.add(base + d)
    lo, hi = sorted((T + o1, T + o2))
    pts.add((lo + hi) // 2)
    return sorted(pts)


def rows_for(name, z, years, n_random, rng, tag, glibc=None):
    rows = []
    for y0, y1 in years:
        for tr in transitions(z, y0, y1):
            for L in local_points(tr):
                rows.append(L)
                if glibc and glibc[1]:  # also around glibc's transition, a day later
                    rows.append(L + 86400)
    for _ in range(n_random):
        rows.append(rng.randrange(int(dt.datetime(1980, 1, 1).replace(tzinfo=UTC).timestamp()),
                                  int(dt.datetime(2099, 12, 31).replace(tzinfo=UTC).timestamp())))
    out = []
    for L in sorted(set(rows)):
        local = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=L)
        kind, u = classify(z, local)
        if glibc:  # footer-only zones: glibc must agree, except where CPython is wrong
            gk, gu = classify_glibc(glibc[0], local)
            if (gk, gu) != (kind, u):
                assert glibc[1], (name, local, (kind, u), (gk, gu))
                GLIBC_DIFF[name] = GLIBC_DIFF.get(name, 0) + 1
                kind, u = gk, gu
        late = local.year >= 2038
        out.append((name, local.strftime("%Y-%m-%dT%H:%M:%S"), kind,
                    "-" if u is None else str(u), tag if late else "-"))
    return out


# Python 3.11's zoneinfo reads the zero-based POSIX day "n" one day early (_DayOffset adds d to
# the day *before* January 1); glibc follows POSIX (n = 0 is January 1), so Test/FooterJulian's
# expected values come from glibc. The other footer-only zones must agree in both.
GLIBC_DIFF = {}


def main():
    write_test_zones()
    rng = random.Random(14)
    rows = []
    sysdir = os.environ.get("TZDIR", "/usr/share/zoneinfo")
    years = [(y, y + 1) for y in range(1980, 2025, 4)] + [(2011, 2013)] + \
        [(2040, 2041), (2061, 2062), (2099, 2100)]
    for name in SYSTEM:
        z = zoneinfo.ZoneInfo(name)
        foot = footer_of(os.path.join(sysdir, name))
        rows += rows_for(name, z, years, 60, rng, "footer=" + foot)
    for name in TEST_ZONES:
        with open(os.path.join(TESTDIR, name), "rb") as f:
            z = zoneinfo.ZoneInfo.from_file(f, key=name)
        ver, _, _, _, footer = TEST_ZONES[name]
        glibc = (footer, name == "Test/FooterJulian") if name.startswith("Test/Footer") else None
        rows += rows_for(name, z, [(1986, 1987), (2001, 2002), (2004, 2005), (2030, 2031),
                                   (2096, 2097)], 20, rng, "-", glibc)
    out = os.path.join(HERE, "tz_table.tsv")
    tzver = zoneinfo.TZPATH
    with open(out, "w") as f:
        f.write("# whyflag time-zone reference: written by tests/data/tz/gen_tz_table.py with\n")
        f.write("# Python %s zoneinfo (TZPATH %s)\n" % (sys.version.split()[0], ":".join(tzver)))
        f.write("# Test/Footer* rows also checked against glibc (TZ=<footer>); Test/FooterJulian\n")
        f.write("# from glibc: zoneinfo reads the zero-based day n one day early (%d rows)\n" %
                GLIBC_DIFF.get("Test/FooterJulian", 0))
        f.write("# columns: zone, naive local time, kind (unique/ambiguous/nonexistent),\n")
        f.write("#   UTC seconds (the earlier instant when ambiguous; - when nonexistent),\n")
        f.write("#   footer=<TZ string> when the row relies on the system file's footer rule\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    kinds = {}
    for r in rows:
        kinds[r[2]] = kinds.get(r[2], 0) + 1
    print("%d rows %s -> %s" % (len(rows), kinds, out))


if __name__ == "__main__":
    main()
