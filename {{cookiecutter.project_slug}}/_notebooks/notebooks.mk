# Notebooks in the project's image: JupyterLab, and a check that each gives the same outputs twice.
# Their image is built on the project's (notebook.Dockerfile). Its tag hashes the project image's
# tag and what the notebook tools add: it is rebuilt only when one of them changes; `make clean`
# removes it.
NOTEBOOK_INPUTS = echo $(IMAGE); cat notebook.Dockerfile requirements-notebook.txt
NOTEBOOK_HASH = $(shell { $(NOTEBOOK_INPUTS); } | { sha256sum || shasum -a 256; } | cut -c1-12)
NOTEBOOK_IMAGE = $(PROJECT):notebook-$(NOTEBOOK_HASH)
NOTEBOOK_BUILD = scripts/docker.sh build $(BUILD_FLAGS) --platform $(PLATFORM) \
	--file notebook.Dockerfile --build-arg PROJECT_IMAGE=$(IMAGE) \
	--build-arg BASE_IMAGE="$$(scripts/base-image.sh ref "$(BASE_IMAGE)" $(PLATFORM))"
.PHONY: notebook-image notebook verify-notebooks notebook-lock
notebook-image: image
	@scripts/docker.sh image inspect $(NOTEBOOK_IMAGE) >/dev/null 2>&1 || { \
	echo "Building $(NOTEBOOK_IMAGE): JupyterLab on $(IMAGE)"; \
	$(NOTEBOOK_BUILD) --tag $(NOTEBOOK_IMAGE) .; }
	@scripts/docker.sh tag $(NOTEBOOK_IMAGE) $(PROJECT):notebook # the name that .devcontainer/ opens
# Port 8888, Jupyter's own, unless PORT= says otherwise; a fresh token each time, in its URL.
# As root where you are root (--allow-root), with no capability; no extension installs (readonly).
notebook: PORT = 8888
notebook: notebook-image ## [container] JupyterLab on 127.0.0.1:8888 (PORT=), with a token
	@token=$$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'); \
	echo "JupyterLab: http://127.0.0.1:$(PORT)/lab?token=$$token  (Ctrl-C stops it)"; \
	MAKE_TARGET=notebook $(IN_CONTAINER) --name $(PROJECT)-notebook -p 127.0.0.1:$(PORT):8888 \
	-e JUPYTER_TOKEN="$$token" $(NOTEBOOK_IMAGE) jupyter lab --ip=0.0.0.0 --port=8888 --no-browser \
	--ServerApp.root_dir=/app --ServerApp.custom_display_url=http://127.0.0.1:$(PORT)/lab \
	--allow-root --LabApp.extension_manager=readonly
verify-notebooks: notebook-image ## [container] run notebooks/ twice in fresh kernels: same outputs?
	$(IN_CONTAINER) $(NOTEBOOK_IMAGE) python scripts/verify_notebooks.py notebooks
notebook-lock: image ## [host] pin requirements-notebook.in with hashes: requirements-notebook.txt
	$(NOTEBOOK_BUILD) --quiet --target lock --output type=local,dest=.make/notebook-lock .
	cp .make/notebook-lock/requirements-notebook.txt requirements-notebook.txt
