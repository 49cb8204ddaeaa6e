# The lab tools, included by the Makefile (as every *.mk file beside it): a registry, a shared
# TrackIO server, and Slurm sweeps (docs/lab.md).
REGISTRY ?=## host:port[/path] of the registry that push and pull use
PLATFORMS ?= linux/amd64 linux/arm64## the platforms that push publishes as one image
HOST ?= 127.0.0.1## where the tracking server listens; 0.0.0.0 lets other machines in
NETWORK ?=## a Docker network that train joins, e.g. the tracking server's
SWEEP ?=## a sweep's name: for sweep (default: a new one) and sweep-status (default: the latest)
RUNTIME ?= docker## what runs a sweep's tasks on the cluster: docker, podman or apptainer
SBATCH_FLAGS ?=## more flags for sbatch, e.g. --partition=gpu --time=1:00:00
# The tracking server's address and token come from your environment too: a token typed on
# make's command line stays in your shell's history.
DOCKER_RUN += $(if $(NETWORK),--network $(NETWORK))# the tracking server's network, if named
DOCKER_RUN += -e TRACKIO_SERVER_URL -e TRACKIO_WRITE_TOKEN# where the runs go, and the key
DOCKER_RUN += -e SYNC_COMMAND="make sync-runs"# what sends the points that a server did not take
NO_TOKEN = a TrackIO server takes runs only with its write token: add TRACKIO_WRITE_TOKEN=...
NO_SERVER = name the server, as for make train: TRACKIO_SERVER_URL=... TRACKIO_WRITE_TOKEN=...
NO_SBATCH = make sweep submits to Slurm, and sbatch is not here: run it on the cluster's login node
# Each platform's image, by the same content hash: a multi-platform BASE_IMAGE gives one.
PLATFORM_IMAGES = $(foreach platform,$(PLATFORMS),$(PROJECT):$(IMAGE_HASH)-$(subst /,-,$(platform)))
.PHONY: push pull tracking-server tracking-server-stop sync-runs sweep sweep-status

# Before a run trains, or a sweep is submitted, the server must answer and take the token;
# otherwise the runs would keep their points locally.
train sweep sync-runs: lab-check-token
lab-check-token: image
	@test -z "$(TRACKIO_SERVER_URL)" -o -n "$$TRACKIO_WRITE_TOKEN" || { \
		echo "error: $(NO_TOKEN) (make tracking-server prints it)" >&2; exit 2; }
	@test -z "$(TRACKIO_SERVER_URL)" || $(DOCKER_RUN) $(IMAGE) python scripts/tracking.py check

push: base $(STALE_LOCK) ## [host] build for each of PLATFORMS, push to REGISTRY as one image
	@scripts/registry.sh check push "$(REGISTRY)"
	@for platform in $(PLATFORMS); do \
		scripts/base-image.sh check "$(BASE_IMAGE)" $$platform || exit; \
		image=$(PROJECT):$(IMAGE_HASH)-$${platform/\//-}; \
		scripts/build-image.sh $$image $$platform "$(BASE_IMAGE)" $(IMAGE_MAX_MB) || exit; \
	done
	@scripts/registry.sh push "$(REGISTRY)" $(PLATFORM_IMAGES)

pull: ## [host] pull this project's image for PLATFORM from REGISTRY instead of building it
	@scripts/registry.sh pull $(IMAGE) "$(REGISTRY)"

tracking-server: image ## [container] a shared TrackIO server on http://$(HOST):$(PORT)
	@scripts/tracking-server.sh $(PROJECT) $(IMAGE) $(HOST) $(PORT)

tracking-server-stop: ## [host] stop the tracking server (its runs stay in .trackio/server/)
	scripts/docker.sh stop $(PROJECT)-tracking

sync-runs: ## [container] send the tracking server the points that runs kept in .trackio/
	@test -n "$(TRACKIO_SERVER_URL)" || { echo "error: $(NO_SERVER) (and NETWORK=...)" >&2; exit 2; }
	@$(DOCKER_RUN) $(IMAGE) python scripts/tracking.py sync $(PROJECT)

sweep: image ## [host] a Slurm job array over each combination of the values, e.g. SEED="1 2 3"
	@command -v sbatch >/dev/null || { echo "error: $(NO_SBATCH)" >&2; exit 2; }
	@sweep=sweeps/$(or $(SWEEP),sweep-$$(date +%Y%m%d-%H%M%S)); \
	$(IN_CONTAINER) $(IMAGE) python scripts/sweep.py plan "$$sweep" $(IMAGE) "$(CURDIR)" \
		$(RUNTIME) $(SETTINGS) && \
	sbatch --parsable $(SBATCH_FLAGS) "$$sweep/sweep.sbatch" >"$$sweep/job-id" && \
	echo "Submitted as Slurm job $$(cat "$$sweep/job-id");" \
		"make sweep-status SWEEP=$${sweep#sweeps/} follows it."

sweep-status: ## [host] how the tasks of SWEEP are doing, with the log of each failed one
	@python3 scripts/sweep.py status "sweeps/$(or $(SWEEP),$$(ls -t sweeps 2>/dev/null | head -1))"
