# The similarity search of mlde-sample at the issue's scale: 10,000 queries
# over 100,000 pool embeddings of 512 dimensions, against sgemm's own rate
# on the search's block shape, measured before each search in the same run
# (BENCH_KNN_RUNS rounds, 3: medians with the lowest and highest).  Goal: at
# least 0.5 of sgemm; memory the pool plus a bounded block.
. "$(dirname "$0")/lib.sh"
"$MLDE_BENCHBIN/bench-knn" ${BENCH_KNN_SHAPE:-10000 100000 512 48} "${BENCH_KNN_RUNS:-3}"
