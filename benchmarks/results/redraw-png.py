"""Draw the PNG of a result file from its JSON rows: ``python benchmarks/results/redraw-png.py FILE.json...``.

For result files whose PNG was not kept (runs written to a scratch file and copied here) and for benchmarks
without a figure of their own (the throughput benches: ``bench.rows_figure``). ``pearl-point`` files get the
bench's own figure (``pearl_bench.figure_from_rows``); other benchmarks need their run's data and are refused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from metarl_course import bench, pearl_bench

FROM_ROWS = {"pearl-point": pearl_bench.figure_from_rows}
PLAIN = {"rl2-throughput", "pixel-throughput"}


def redraw(path: Path) -> Path:
    result = json.loads(path.read_text())
    name = result["name"]
    if name in FROM_ROWS:
        figure = FROM_ROWS[name](result["rows"])
    elif name in PLAIN:
        figure = bench.rows_figure(result["rows"], f"{name} ({result['preset']})")
    else:
        raise SystemExit(f"{path}: the {name} figure needs its run's data, not only the rows; rerun the bench")
    png = path.with_suffix(".png")
    figure.savefig(png, dpi=120, bbox_inches="tight")
    return png


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print("wrote", redraw(Path(arg)))
