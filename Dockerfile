# fanqa: one image for the bot (`fanqa run`) and the training worker (`fanqa worker`).
#
# torch is installed first, on its own, so the build picks the build you want:
#   CPU (default):  docker build .
#   NVIDIA GPU:     docker build --build-arg PIP_EXTRA="--index-url https://download.pytorch.org/whl/cu128" .
#   a pinned one:   docker build --build-arg TORCH_SPEC="torch==2.8.0" .
FROM python:3.12-slim

ARG TORCH_SPEC="torch"
ARG PIP_EXTRA="--index-url https://download.pytorch.org/whl/cpu"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FANQA_DATA_DIR=/data \
    FANQA_DATABASE_URL=sqlite:////data/fanqa.db \
    HF_HOME=/cache/huggingface

RUN useradd --create-home --uid 1000 fanqa \
    && mkdir -p /data /cache/huggingface \
    && chown -R fanqa:fanqa /data /cache

WORKDIR /app
RUN pip install ${PIP_EXTRA} "${TORCH_SPEC}"

COPY pyproject.toml README.md ./
COPY harvest ./harvest
COPY storage ./storage
COPY trainer ./trainer
COPY bot ./bot
RUN pip install . && fanqa --help > /dev/null

USER fanqa
VOLUME ["/data", "/cache/huggingface"]
CMD ["fanqa", "run"]
