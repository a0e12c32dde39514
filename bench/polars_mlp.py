"""The 193-node MLP of workloads.small_mlp (71 inputs) at every point, by hand in
Polars: its value and all 71 gradients, derivatives written out by hand."""
import sys

import polars as pl

INPUTS, HIDDEN = 4, 11
src, dst = sys.argv[1], sys.argv[2]
df = pl.read_csv(src) if src.endswith(".csv") else pl.read_ndjson(src) if src.endswith(".jsonl") \
    else pl.read_parquet(src)
order = df.columns                                   # the program's leaf order
c = pl.col
x = [c(f"x{i}") for i in range(INPUTS)]
h = [(sum(c(f"w{j}_{i}") * x[i] for i in range(INPUTS)) + c(f"b{j}")).tanh().alias(f"h{j}") for j in range(HIDDEN)]
df = df.with_columns(h)
df = df.with_columns((sum(c(f"v{j}") * c(f"h{j}") for j in range(HIDDEN)) + c("c")).tanh().alias("value"))
df = df.with_columns((1 - c("value") ** 2).alias("dy"))
df = df.with_columns([(c("dy") * c(f"v{j}") * (1 - c(f"h{j}") ** 2)).alias(f"dh{j}") for j in range(HIDDEN)])
grads = {"c": c("dy")}
for j in range(HIDDEN):
    grads[f"v{j}"] = c("dy") * c(f"h{j}")
    grads[f"b{j}"] = c(f"dh{j}")
    for i in range(INPUTS):
        grads[f"w{j}_{i}"] = c(f"dh{j}") * x[i]
for i in range(INPUTS):
    grads[f"x{i}"] = sum(c(f"dh{j}") * c(f"w{j}_{i}") for j in range(HIDDEN))
out = df.select([c("value")] + [grads[n].alias(f"grad_{n}") for n in order])
out.write_csv(dst) if dst.endswith(".csv") else out.write_ndjson(dst) if dst.endswith(".jsonl") \
    else out.write_parquet(dst)
