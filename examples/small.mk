# examples/small.mk - a quick loop for trying mlde out: a smaller world,
# shorter training and a smaller budget (`make iter3 CONFIG=examples/small.mk`).
RUN = runs/small
WORLD_IMAGES = 600
WORLD_BASE = 1500
WORLD_VAL = 450
WORLD_TEST = 450
BASE_EPOCHS = 6
ITER_EPOCHS = 2
BUDGET = 300
