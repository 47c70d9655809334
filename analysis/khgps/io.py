"""Reading khgps run files (layout in README.md "Output"): realizations as dicts, minima only by
default. A run file FILE may have a log beside it, FILE.pending: realizations added since FILE was
last folded (khgps folds the log into FILE at the end of every run and whenever the log grows to
four times FILE; a run stopped by a signal or a kill leaves it). Every reader here reads both;
the log is self-describing (its header lists the record's fields), so this module needs no
knowledge of khgps's version."""
import os
import struct

import h5py
import numpy as np

from . import format as kformat  # analysis/khgps/format.py: the format, from src/record.c

STATUS_MINIMUM = kformat.STATUS_MINIMUM
PENDING_FORMAT = kformat.PENDING_FORMAT


def _attrs(obj):
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in obj.attrs.items()}


def read_params(path):
    with h5py.File(path, "r") as f:
        return _attrs(f["params"])


def _checksum(b):
    """The log's checksum of a payload (io.c Checksum): the payload as little-endian 64-bit words
    (zero-padded), sum over k of (w_k xor k * 0x9E3779B97F4A7C15) * (2k + 1), modulo 2^64, xor the
    byte count."""
    pad = (-len(b)) % 8
    w = np.frombuffer(b + b"\0" * pad, dtype="<u8")
    k = np.arange(len(w), dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = np.sum((w ^ (k * np.uint64(0x9E3779B97F4A7C15))) * (np.uint64(2) * k + np.uint64(1)), dtype=np.uint64)
    return int(h) ^ len(b)


def pending_entries(path, log_id):
    """The valid entries of the log FILE.pending of a run file whose log_id is `log_id`: a list of
    ('run', dict) and ('realization', dict) in the order written. A log of another log_id (already
    folded), a missing log, or a record cut by a kill (and everything after it) give nothing."""
    log = path + ".pending"
    if not log_id or not os.path.isfile(log):
        return []
    with open(log, "rb") as fh:
        data = fh.read()
    end = data.find(b"\nend\n")
    if end < 0:
        return []
    header = data[: end + 5].decode("ascii", "replace").split("\n")
    if header[0] != PENDING_FORMAT or header[1] != f"log_id {log_id}":
        return []
    head, fields, arrays, enums = parse_layout(header[2:])
    out, off = [], end + 5
    while off + 16 <= len(data):
        magic, n = data[off: off + 8], struct.unpack("<Q", data[off + 8: off + 16])[0]
        if magic not in (b"KHGPSREC", b"KHGPSRUN") or off + 24 + n > len(data):
            break
        payload = data[off + 16: off + 16 + n]
        if struct.unpack("<Q", data[off + 16 + n: off + 24 + n])[0] != _checksum(payload):
            break
        off += 24 + n
        if magic == b"KHGPSRUN":
            text = payload.decode("utf-8", "replace")
            out.append(("run", dict(line.split("=", 1) for line in text.split("\n") if "=" in line)))
            continue
        b = np.frombuffer(payload, dtype="<f8")
        counts = {name: int(b[k]) for k, name in enumerate(head)}  # N, nconv, has_J, nmodes (older logs: no nmodes)
        N, hasJ = counts["N"], counts["has_J"] != 0
        d = {}
        for k, (name, kind) in enumerate(fields):
            v = b[len(head) + k]
            if kind == "e":
                d[name] = enums.get(name, {}).get(int(v), str(int(v)))
            elif kind == "i":
                d[name] = int(v)
            else:
                d[name] = float(v)
        at = len(head) + len(fields)
        for name, length in arrays:
            shape = tuple(counts.get(c, 0) for c in length.split("*"))  # N, nconv or nmodes*N
            m = int(np.prod(shape))
            if m:
                a = b[at: at + m].reshape(shape if len(shape) > 1 else m)
                d[name] = a.astype(kformat.ARRAY_DTYPES.get(name, "float64"))  # as the run file stores it
            at += m
        if hasJ:
            d["J"] = b[at: at + N * N].reshape(N, N).copy()
        d["status_name"] = enums.get("status", {}).get(d.get("status", -1), "unknown")
        d["tao_reason_name"] = enums.get("tao_reason", {}).get(d.get("tao_reason", 0), "unknown")
        out.append(("realization", d))
    return out


def parse_layout(lines):
    """The record layout stated by a log header's lines ("record", "arrays", "enum"; io.c LogHeader,
    record.c KhgpsRecordLayout): (head counts, [(scalar, type letter)], [(array, length)], enums)."""
    head, fields, arrays, enums = [], [], [], {}
    for line in lines:
        w = line.split()
        if not w:
            continue
        if w[0] == "record":
            head = [x for x in w[1:] if ":" not in x]
            fields = [tuple(x.split(":")) for x in w[1:] if ":" in x]
        elif w[0] == "arrays":
            arrays = [tuple(x.split(":")) for x in w[1:]]
        elif w[0] == "enum":
            enums[w[1]] = {int(k): v for k, v in (x.split("=", 1) for x in w[2:])}
    return head, fields, arrays, enums


def realizations(paths, minima_only=True, with_J=False):
    """Yield (path, dict) for each realization of the given run files and their logs (.pending);
    the dict holds the datasets (kappa, x, eigenvalues, participation_ratio, ..., modes [nmodes, N]
    float32 where -khgps_save_modes saved them: kformat.ARRAYS), the group's attributes and `params`.
    A realization present in FILE and in its log is given once."""
    if isinstance(paths, str):
        paths = [paths]
    for path in paths:
        with h5py.File(path, "r") as f:
            params = _attrs(f["params"])
            log_id = f.attrs.get("log_id", b"")
            log_id = log_id.decode() if isinstance(log_id, bytes) else str(log_id)
            seen = set()
            for name in sorted(f.get("realizations", {})):
                g = f["realizations"][name]
                d = _attrs(g)
                seen.add(int(d.get("realization", int(name))))
                if minima_only and d.get("status") != STATUS_MINIMUM:
                    continue
                for k in g:
                    if k != "J" or with_J:
                        d[k] = g[k][()]
                d["params"] = params
                yield path, d
        for kind, d in pending_entries(path, log_id):
            if kind != "realization" or d["realization"] in seen:
                continue
            seen.add(d["realization"])
            if minima_only and d.get("status") != STATUS_MINIMUM:
                continue
            if not with_J:
                d.pop("J", None)
            d["params"] = params
            yield path, d


def count_status(paths):
    """Number of realizations per status name over the files."""
    out = {}
    for _, d in realizations(paths, minima_only=False):
        out[d["status_name"]] = out.get(d["status_name"], 0) + 1
    return out
