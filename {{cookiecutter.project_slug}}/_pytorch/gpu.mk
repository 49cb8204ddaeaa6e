# The GPU, for the network: the Makefile includes this file, as every *.mk file beside it.
GPU ?=## 1 gives the container every GPU (needs the NVIDIA Container Toolkit)
DOCKER_RUN += $(if $(filter 1,$(GPU)),--gpus all)# the GPUs, when you ask for them
