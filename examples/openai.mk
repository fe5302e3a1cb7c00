# examples/openai.mk - the loop with GPT-4o writing the training data
# (`make iter3 CONFIG=examples/openai.mk`).  Needs OPENAI_API_KEY in the
# environment; replies are cached under runs/openai/cache, so a rerun after
# an interruption pays only for what is missing.  For a vLLM or SGLang
# server, set --base-url http://HOST:PORT/v1 and its model name instead.
RUN = runs/openai
BACKEND = http
BUDGET = 300
GEN_FLAGS = --model gpt-4o -j 16 --rpm 500 --tpm 300000 --cache runs/openai/cache
