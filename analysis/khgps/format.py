"""The khgps run file's format, as src/record.c defines it: loaded from format.json beside this file,
which `make format` (bin/khgps-format) writes from the C tables and tests/test_format.py checks.
Readers (khgps_io, khgps_digest, scripts/khgps-merge) take field names and types from here."""
import json
import os

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "format.json")
with open(_PATH) as _fh:
    FORMAT_JSON = json.load(_fh)

#: root attribute `format` of a run file, and the first line of FILE.pending
FORMAT = FORMAT_JSON["format"]
PENDING_FORMAT = FORMAT_JSON["pending_format"]
#: scalar attributes of /realizations/NNNNNN in table order: dicts name, type ("int"|"real"),
#: enum (list of names, the attribute is then the name as a string) or None, optional
SCALAR_FIELDS = FORMAT_JSON["scalars"]
SCALARS = tuple(s["name"] for s in SCALAR_FIELDS)
SCALAR_TYPES = {s["name"]: s["type"] for s in SCALAR_FIELDS}
ENUM_SCALARS = {s["name"]: tuple(s["enum"]) for s in SCALAR_FIELDS if s["enum"]}
OPTIONAL_SCALARS = tuple(s["name"] for s in SCALAR_FIELDS if s["optional"])
REQUIRED_SCALARS = tuple(s["name"] for s in SCALAR_FIELDS if not s["optional"])
#: string attributes written beside the scalars (status_name, tao_reason_name), always present
NAMES = tuple(n["name"] for n in FORMAT_JSON["names"])
STATUS_NAMES = dict(enumerate(next(n["enum"] for n in FORMAT_JSON["names"] if n["name"] == "status_name")))
STATUS_MINIMUM = next(k for k, v in STATUS_NAMES.items() if v == "minimum")
#: datasets: dicts name, length ("N", "nconv", "nmodes*N": a 2-D [nmodes, N]), dtype, optional
ARRAY_FIELDS = FORMAT_JSON["arrays"]
ARRAYS = tuple(a["name"] for a in ARRAY_FIELDS)
ARRAY_DTYPES = {a["name"]: a["dtype"] for a in ARRAY_FIELDS}
PER_N = tuple(a["name"] for a in ARRAY_FIELDS if a["length"] == "N")
PER_PAIR = tuple(a["name"] for a in ARRAY_FIELDS if a["length"] == "nconv")
PER_MODE = tuple(a["name"] for a in ARRAY_FIELDS if a["length"] == "nmodes*N")
OPTIONAL_ARRAYS = tuple(a["name"] for a in ARRAY_FIELDS if a["optional"])
COUPLINGS = FORMAT_JSON["couplings"]["name"]
#: the packed record's head (FILE.pending records: these counts, the scalars, the arrays, J)
PENDING_HEAD = tuple(FORMAT_JSON["pending_head"])
PENDING_LAYOUT = tuple(FORMAT_JSON["pending_layout"])


def array_shape(name, counts):
    """The shape of dataset `name` given the counts {"N": .., "nconv": .., "nmodes": ..}."""
    return tuple(int(counts[d]) for d in next(a for a in ARRAY_FIELDS if a["name"] == name)["length"].split("*"))
