"""Reads the Parquet tables of a converted export with pyarrow (a reference reader).

Usage: check_parquet.py DIR. Prints a JSON summary; exits 4 when pyarrow is missing,
1 when a table does not load or lacks its typed columns.
"""

import json
import os
import sys

try:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
except ImportError:
    sys.exit(4)

root = sys.argv[1]
tables = {
    name: pq.read_table(os.path.join(root, f"{name}.parquet"))
    for name in ("tasks", "objects", "classifications")
}
tasks, objects = tables["tasks"], tables["objects"]
for name, column in (("row", "uint64"), ("width", "double"), ("is_skipped", "bool")):
    if str(tasks.schema.field(name).type) != column:
        print(f"tasks.{name} is {tasks.schema.field(name).type}", file=sys.stderr)
        sys.exit(1)
boxes = objects.filter(pc.equal(objects.column("shape"), "bounding-box"))
if any(w is None or w <= 0 for w in boxes.column("width").to_pylist()):
    print("a box without a positive width", file=sys.stderr)
    sys.exit(1)
print(
    json.dumps(
        {
            "tasks": tasks.num_rows,
            "objects": objects.num_rows,
            "classifications": tables["classifications"].num_rows,
            "row_groups": pq.ParquetFile(os.path.join(root, "tasks.parquet")).num_row_groups,
            "types": {f.name: str(f.type) for f in tasks.schema},
        }
    )
)
