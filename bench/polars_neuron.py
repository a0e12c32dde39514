"""The lecture's neuron at every point of a CSV, by hand in Polars: the yardstick for `grad --at`."""
import sys

import polars as pl

src, dst = sys.argv[1], sys.argv[2]
df = pl.read_csv(src) if src.endswith(".csv") else pl.read_ndjson(src) if src.endswith(".jsonl") \
    else pl.read_parquet(src)
o = (pl.col("x1") * pl.col("w1") + pl.col("x2") * pl.col("w2") + pl.col("b")).tanh()
dn = 1 - o * o                                     # tanh' = 1 - o**2
out = df.select(value=o, grad_x1=dn * pl.col("w1"), grad_x2=dn * pl.col("w2"),
                grad_w1=dn * pl.col("x1"), grad_w2=dn * pl.col("x2"), grad_b=dn)
out.write_csv(dst) if dst.endswith(".csv") else out.write_ndjson(dst) if dst.endswith(".jsonl") \
    else out.write_parquet(dst)
