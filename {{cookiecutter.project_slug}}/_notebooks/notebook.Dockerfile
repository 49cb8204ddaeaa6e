# JupyterLab on top of the project's image: the same OS, Python, packages and seed settings as
# `make train`, plus the notebook tools, so that the training image stays as lean as before.
# `make notebook` builds it.
ARG BASE_IMAGE=python:{{ cookiecutter.python_version }}-slim
ARG PROJECT_IMAGE

# uv, as in the Dockerfile: from a stage of its own, mounted for the install, never in the image.
FROM ${BASE_IMAGE} AS uv
RUN pip install --no-cache-dir --root-user-action=ignore --target /uv uv==0.13.8

# `make notebook-lock`: requirements-notebook.in resolved with hashes,
# against the training image's packages.
FROM ${PROJECT_IMAGE} AS resolve
COPY requirements-notebook.in /tmp/requirements-notebook.in
RUN --mount=from=uv,source=/uv/bin/uv,target=/usr/local/bin/uv \
    export UV_SYSTEM_CERTS=1 UV_CACHE_DIR=/tmp/uv && uv pip freeze > /tmp/training.txt \
    && uv pip compile --quiet --generate-hashes --custom-compile-command "make notebook-lock" \
    --constraint /tmp/training.txt -o /tmp/requirements-notebook.txt /tmp/requirements-notebook.in
FROM scratch AS lock
COPY --from=resolve /tmp/requirements-notebook.txt /

FROM ${PROJECT_IMAGE}
USER 0
COPY requirements-notebook.txt /tmp/requirements-notebook.txt
# Every hash checked; and the training packages must stay exactly as they are, or the notebooks
# would not run what `make train` runs: a lock made against other versions stops the build.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=from=uv,source=/uv/bin/uv,target=/usr/local/bin/uv \
    export UV_SYSTEM_CERTS=1 UV_LINK_MODE=copy \
    && uv pip freeze > /tmp/training.txt \
    && uv pip install --require-hashes -r /tmp/requirements-notebook.txt \
    && uv pip freeze > /tmp/notebook.txt \
    && changed=$(grep -Fxvf /tmp/notebook.txt /tmp/training.txt || true) \
    && { test -z "$changed" || { echo "requirements-notebook.txt changes $changed:" \
    "relock it with make notebook-lock" >&2; exit 1; }; } \
    && python -m compileall -q -j0 -x /tests/ "$VIRTUAL_ENV" \
    && rm /tmp/*.txt
# JupyterLab neither asks to fetch news nor looks for updates: it runs offline, as the project does.
ARG LAB_SETTINGS=/opt/venv/share/jupyter/lab/settings
RUN mkdir -p "$LAB_SETTINGS" && echo '{"@jupyterlab/apputils-extension:notification": \
    {"checkForUpdates": false, "fetchNews": "false"}}' > "$LAB_SETTINGS/overrides.json"
USER 1000:1000
